import { createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import {
  claimIdempotencyKey,
  releaseIdempotencyKey,
  renewIdempotencyLease,
  storeIdempotentResponse,
  type StoredResponse,
} from '../services/integrations';
import { config } from '../config/env';
import { AppError } from '../utils/app-error';
import { logger } from '../utils/logger';
import { currentPrincipal } from './authenticate';

// Idempotency-Key on POST and PATCH (IETF httpapi draft `draft-ietf-httpapi-idempotency-key-header`, SPEC §8).
// Two middlewares: `captureBodyDigest` first in the route's chain (before any parser reads the body), which
// hashes the body's bytes as they arrive whoever reads them; `idempotency` after authentication and
// validation, which claims the key, or replays, or refuses.

const HEADER = 'idempotency-key';
/** Response headers that belong to the answer (replayed); the rest (request id, rate limits, dates) do not. */
const replayedHeaders = ['location', 'content-location', 'x-import-job-id', 'cache-control'];

interface BodyDigest {
  /** The SHA-256 of the whole body once it has arrived. */
  value?: string;
  complete: Promise<string>;
}

const digests = new WeakMap<Request, BodyDigest>();

/**
 * Hashes the request body on its way into the stream. Every chunk enters through `push()`, so wrapping it sees
 * the bytes whether a JSON parser, busboy or the streaming import reads them, without reading anything itself;
 * what had arrived before (often the whole body, in the packet of its headers) is read and put back first.
 */
function tapBody(req: Request): BodyDigest {
  const hash = createHash('sha256');
  const digest: BodyDigest = { complete: Promise.resolve('') };
  if (req.readableLength > 0) {
    const buffered: unknown = req.read();
    if (buffered !== null) {
      // A Buffer, or a string had someone set an encoding on the request.
      if (Buffer.isBuffer(buffered) || typeof buffered === 'string') hash.update(buffered);
      req.unshift(buffered);
    }
  }
  if (req.complete) {
    digest.value = hash.digest('hex');
    digest.complete = Promise.resolve(digest.value);
    return digest;
  }
  digest.complete = new Promise<string>((resolve, reject) => {
    const originalPush = req.push.bind(req);
    req.push = (chunk: unknown, encoding?: BufferEncoding): boolean => {
      if (chunk === null) {
        digest.value = hash.digest('hex');
        resolve(digest.value);
      } else if (Buffer.isBuffer(chunk)) hash.update(chunk);
      return originalPush(chunk, encoding);
    };
    req.once('close', () => reject(AppError.badRequest('The request body did not arrive whole')));
  });
  digest.complete.catch(() => undefined);
  return digest;
}

/** First in the chain of a route that honours Idempotency-Key: starts hashing the body of a request that sends one. */
export function captureBodyDigest(req: Request, _res: Response, next: NextFunction): void {
  if (req.headers[HEADER] !== undefined) digests.set(req, tapBody(req));
  next();
}

const badKey = (message: string) => AppError.validation([{ location: 'header', field: 'Idempotency-Key', message }]);

/**
 * The key: a structured-field string (`"…"`, as the draft defines it) or, as most clients send it, the bare
 * text; 1 to 255 printable ASCII characters either way.
 */
export function parseIdempotencyKey(raw: string | string[]): string {
  if (Array.isArray(raw)) throw badKey('send one Idempotency-Key header');
  const quoted = /^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$/.exec(raw);
  const key = quoted?.[1] !== undefined ? quoted[1].replace(/\\(["\\])/g, '$1') : raw;
  if (key.length < 1 || key.length > 255 || !/^[\x20-\x7e]+$/.test(key)) throw badKey('must be 1 to 255 printable ASCII characters');
  return key;
}

function replay(res: Response, response: StoredResponse): void {
  res.status(response.status);
  for (const { name, value } of response.headers) res.setHeader(name, value);
  res.setHeader('Idempotent-Replayed', 'true');
  res.send(response.body);
}

/**
 * After authentication and validation: a POST or PATCH carrying Idempotency-Key runs once per (caller, key).
 * A retry of the same request replays the first answer; another request with the key is 422; a retry while
 * the first still runs is 409 with Retry-After.
 */
export async function idempotency(req: Request, res: Response, next: NextFunction): Promise<void> {
  const raw = req.headers[HEADER];
  if (raw === undefined) return next();
  const key = parseIdempotencyKey(raw);
  const principal = currentPrincipal(res);
  const digest = digests.get(req) ?? tapBody(req);
  const outcome = await claimIdempotencyKey({
    // A key is a client of its own: its retries replay its answers, not those its owner got with a token.
    principal: principal.apiKey ? `apikey:${principal.apiKey.id}` : `${principal.type}:${principal.id}`,
    key,
    request: `${req.method} ${req.originalUrl}`,
    bodyHash: digest.value,
    readBodyHash: () => {
      req.resume();
      return digest.complete;
    },
  });
  if (outcome.kind === 'replay') return replay(res, outcome.response);
  if (outcome.kind === 'mismatch') {
    throw new AppError(422, 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used for a different request', [
      { location: 'header', field: 'Idempotency-Key', message: 'already used with another method, path or body' },
    ]);
  }
  if (outcome.kind === 'in-flight') {
    throw new AppError(409, 'IDEMPOTENCY_KEY_IN_USE', 'A request with this Idempotency-Key is still being processed', undefined, {
      'Retry-After': '1',
    });
  }
  holdClaim(res, outcome, digest);
  next();
}

/** While the request runs: renew the lease; on its answer: store it (before sending it), or give the key up. */
function holdClaim(res: Response, claim: { id: string; token: string }, digest: BodyDigest): void {
  const { id, token } = claim;
  const warn = (error: unknown) =>
    logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'idempotency record not updated');
  const heartbeat = setInterval(() => {
    renewIdempotencyLease(id, token).catch(warn);
  }, config.integrations.idempotencyLeaseMs / 3);
  heartbeat.unref();
  let settled = false;
  const settle = () => {
    const first = !settled;
    settled = true;
    clearInterval(heartbeat);
    return first;
  };
  const sendJson = res.json.bind(res);
  res.json = (body: unknown) => {
    if (!settle()) return sendJson(body);
    // A server error is not an answer to keep: the client's retry should run the request again.
    if (res.statusCode >= 500 || digest.value === undefined) {
      releaseIdempotencyKey(id, token).catch(warn);
      return sendJson(body);
    }
    const headers = replayedHeaders.flatMap((name) => {
      const value = res.getHeader(name);
      return value === undefined ? [] : [{ name, value: String(value) }];
    });
    // Every POST and PATCH answers JSON (res.json sets the type only as it sends).
    headers.push({ name: 'content-type', value: 'application/json; charset=utf-8' });
    const stored = { status: res.statusCode, headers, body: JSON.stringify(body) };
    storeIdempotentResponse(id, token, stored, digest.value)
      .catch(warn)
      .finally(() => sendJson(body));
    return res;
  };
  res.once('close', () => {
    if (settle()) releaseIdempotencyKey(id, token).catch(warn);
  });
}
