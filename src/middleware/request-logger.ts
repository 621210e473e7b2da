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

/** Structured access log; every line of a request, including errors, carries its request id. */
export function requestLogger(logger: Logger) {
  return pinoHttp({
    logger,
    genReqId: requestIdFor,
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
