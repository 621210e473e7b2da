import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AppError } from '../utils/app-error';
import { errorHandler } from './error-handler';
import { hasBody } from './parse-body';

export interface BodyDeadlineOptions {
  /** Time a request may take to deliver its whole body, counted from its headers. */
  timeoutMs: number;
  /** Unfinished bodies one client (IP) may be sending at once; one more is refused. */
  maxPendingPerClient: number;
}

// Node's requestTimeout is one figure for the whole server, and it has to allow a large import's upload
// (REQUEST_TIMEOUT_MS, an hour). Without a shorter limit per route, a client could hold a connection that
// long on any route, without a token, by announcing a body and sending it a byte at a time.

/** Lifts the deadline of a request whose route takes slow uploads (see allowSlowBody). */
const lifts = new WeakMap<IncomingMessage, () => void>();

/**
 * Gives every request with a body `timeoutMs` to deliver it: past that, 408 JSON and the connection
 * closes (or, when the route has already answered, the connection just closes). Caps the unfinished
 * bodies of one client with 429. A route may lift the deadline with `allowSlowBody`, not the cap.
 */
export function bodyDeadline(options: BodyDeadlineOptions): RequestHandler {
  const pending = new Map<string, number>();
  const release = (client: string) => {
    const held = (pending.get(client) ?? 1) - 1;
    if (held > 0) pending.set(client, held);
    else pending.delete(client);
  };

  /** Starts the deadline of a body still arriving; an AppError when the client already has its share. */
  const admit = (req: Request, res: Response): AppError | undefined => {
    // A body that arrived whole (most small bodies come in the packet of their headers) holds nothing, nor
    // does a connection already gone (its 'close' has passed: nothing would release the count).
    if (req.complete || req.socket.destroyed) return undefined;
    const client = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    const held = pending.get(client) ?? 0;
    if (held >= options.maxPendingPerClient) {
      // The body stays unread: closing is the only way not to wait for it.
      res.setHeader('Connection', 'close');
      return AppError.tooManyRequests('Too many unfinished request bodies from this client', options.timeoutMs / 1000);
    }
    pending.set(client, held + 1);
    const timer = setTimeout(() => expire(req, res), options.timeoutMs);
    const socket = req.socket;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      lifts.delete(req);
      socket.off('close', finish);
      release(client);
    };
    // 'end' once the body is read (by a parser, or by Node discarding what no route read). A connection
    // closed first ends the request without 'end', and without 'close' either once its response is done.
    req.once('end', finish);
    req.once('close', finish);
    socket.once('close', finish);
    lifts.set(req, () => clearTimeout(timer));
    return undefined;
  };

  return function enforceBodyDeadline(req: Request, res: Response, next: NextFunction) {
    if (!hasBody(req)) return next();
    // Node emits a request once its headers are parsed, before the rest of their packet: look after that.
    setImmediate(() => next(admit(req, res)));
  };
}

function expire(req: Request, res: Response): void {
  if (req.complete) return;
  if (res.headersSent) {
    req.socket.destroy();
    return;
  }
  res.setHeader('Connection', 'close');
  errorHandler(AppError.requestTimeout('The request body did not arrive in time'), req, res, () => undefined);
}

/** For the route that streams large uploads (the import): only Node's requestTimeout bounds its body. */
export function allowSlowBody(req: Request, _res: Response, next: NextFunction): void {
  lifts.get(req)?.();
  next();
}
