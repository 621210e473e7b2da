import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { redactUrl } from '../utils/logger';

// A client-supplied id is kept only if it is short and made of safe characters (no log injection).
const acceptableRequestId = /^[\w.:@-]{1,128}$/;

export function requestIdFor(req: IncomingMessage, res: ServerResponse): string {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && acceptableRequestId.test(incoming) ? incoming : randomUUID();
  res.setHeader('X-Request-Id', id);
  return id;
}

/** The public prefix of the API key a request authenticated with (res.locals is Express's, typed `any`). */
function apiKeyPrefixOf(res: ServerResponse): string | undefined {
  const locals: unknown = 'locals' in res ? res.locals : undefined;
  const principal: unknown = typeof locals === 'object' && locals !== null && 'principal' in locals ? locals.principal : undefined;
  const apiKey: unknown = typeof principal === 'object' && principal !== null && 'apiKey' in principal ? principal.apiKey : undefined;
  return typeof apiKey === 'object' && apiKey !== null && 'prefix' in apiKey && typeof apiKey.prefix === 'string'
    ? apiKey.prefix
    : undefined;
}

function withKeyPrefix(res: ServerResponse, value: object): object {
  const prefix = apiKeyPrefixOf(res);
  return prefix === undefined ? value : { ...value, api_key_prefix: prefix };
}

/**
 * Structured access log; every line of a request, including errors, carries its request id, and the public
 * prefix of its API key when it used one (never the key).
 */
export function requestLogger(logger: Logger) {
  return pinoHttp({
    logger,
    genReqId: requestIdFor,
    // Only on the line written at the end (where the caller is known): no child logger for every request.
    customSuccessObject: (_req, res, value: object) => withKeyPrefix(res, value),
    customErrorObject: (_req, res, _error, value: object) => withKeyPrefix(res, value),
    customLogLevel(_req, res, error) {
      if (error || res.statusCode >= 500) return 'error';
      if (res.statusCode >= 400) return 'warn';
      return 'info';
    },
    // Headers and query strings are logged without credentials (redactPaths, redactUrl); bodies never are.
    serializers: {
      req(req: { id: string; method: string; url: string; headers: Record<string, unknown>; remoteAddress: string }) {
        const headers = typeof req.headers.referer === 'string' ? { ...req.headers, referer: redactUrl(req.headers.referer) } : req.headers;
        return { id: req.id, method: req.method, url: redactUrl(req.url), headers, remoteAddress: req.remoteAddress };
      },
      res(res: { statusCode: number }) {
        return { statusCode: res.statusCode };
      },
    },
  });
}
