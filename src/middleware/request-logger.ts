import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { credentialHeaders, logger as defaultLogger, REDACTED, redactUrl } from '../utils/logger';

// A client-supplied id is kept only if it is short and made of safe characters (no log injection).
const acceptableRequestId = /^[\w.:@-]{1,128}$/;

export function requestIdFor(req: IncomingMessage, res: ServerResponse): string {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && acceptableRequestId.test(incoming) ? incoming : randomUUID();
  res.setHeader('X-Request-Id', id);
  return id;
}

/**
 * What the access log keeps of a request while it runs, in `res.locals`. pino-http, used before, cost POST
 * /customers 15–18% of its CPU (bench:ab) and a bare Express route ~90 µs a request, of which writing the line
 * with pino is ~15 µs: it hangs a child logger, arrays of loggers and symbol-keyed fields on every request and
 * response, and three listeners it removes again.
 */
class RequestLog {
  constructor(
    readonly logger: Logger,
    readonly id: string,
  ) {}
}

function requestLogOf(res: Response): RequestLog | undefined {
  const log: unknown = res.locals.requestLog;
  return log instanceof RequestLog ? log : undefined;
}

// The request headers a line shows. Any other header is left out: a client or a proxy may put a credential in
// a header of its own (X-Auth-Token, a CSRF token, a cloud provider's identity assertion) that no list of known
// credentials would name.
const loggedHeaderNames = [
  'host',
  'user-agent',
  'referer',
  'origin',
  'accept',
  'content-type',
  'content-length',
  'content-encoding',
  'x-forwarded-for',
  'x-request-id',
] as const;

/**
 * The request's headers as logged: those of the list above (the referer's query censored, redactUrl), and the
 * credential headers it carried, censored.
 */
function loggedHeaders(req: Request): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const name of loggedHeaderNames) {
    const value = req.headers[name];
    if (value !== undefined) headers[name] = value;
  }
  for (const name of credentialHeaders) if (req.headers[name] !== undefined) headers[name] = REDACTED;
  if (typeof headers.referer === 'string') headers.referer = redactUrl(headers.referer);
  return headers;
}

/** The request as logged: the headers above and its URL without credentials; never its body. */
function requestSummary(req: Request, id: string) {
  return {
    id,
    method: req.method,
    url: redactUrl(req.originalUrl || req.url),
    headers: loggedHeaders(req),
    remoteAddress: req.socket.remoteAddress,
  };
}

/** The public prefix of the API key a request authenticated with (res.locals is Express's, typed `any`). */
function apiKeyPrefixOf(res: Response): string | undefined {
  const principal: unknown = res.locals.principal;
  const apiKey: unknown = typeof principal === 'object' && principal !== null && 'apiKey' in principal ? principal.apiKey : undefined;
  return typeof apiKey === 'object' && apiKey !== null && 'prefix' in apiKey && typeof apiKey.prefix === 'string'
    ? apiKey.prefix
    : undefined;
}

/** A logger for lines about this request (errors): each carries the request, its id included. */
export function loggerFor(req: Request, res: Response): Logger {
  const log = requestLogOf(res);
  return (log?.logger ?? defaultLogger).child({ req: requestSummary(req, log?.id ?? '') });
}

/**
 * Structured access log: one line per request when its response ends (or its connection closes first), at `error`
 * for a 5xx, `warn` for a 4xx, `info` otherwise; every line of a request, including errors, carries its request id,
 * and the public prefix of its API key when it used one (never the key).
 */
export function requestLogger(logger: Logger): RequestHandler {
  // The line censors its own credentials (requestSummary), so it skips the logger's redaction pass: half of a
  // line's cost in pino (bench:ab, GET /customers/:id: ~0.04 ms a request). Other lines about a request
  // (loggerFor) keep it.
  const lines = logger.child({}, { redact: { paths: [], censor: REDACTED } });
  return (req, res, next) => {
    const started = Date.now();
    const log = new RequestLog(logger, requestIdFor(req, res));
    res.locals.requestLog = log;
    let written = false;
    const write = () => {
      if (written) return;
      written = true;
      const { statusCode } = res;
      const prefix = apiKeyPrefixOf(res);
      const line = {
        req: requestSummary(req, log.id),
        res: { statusCode },
        responseTime: Date.now() - started,
        ...(prefix === undefined ? {} : { api_key_prefix: prefix }),
      };
      if (statusCode >= 500) lines.error(line, 'request errored');
      else if (statusCode >= 400) lines.warn(line, 'request completed');
      else lines.info(line, 'request completed');
    };
    res.once('finish', write);
    res.once('close', write);
    next();
  };
}
