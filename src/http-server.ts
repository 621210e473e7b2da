import { createServer, STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Express } from 'express';
import type { Logger } from 'pino';
import { config } from './config/env';
import { appMessageClasses } from './utils/app-message-classes';
import { AppError } from './utils/app-error';
import { logger as defaultLogger } from './utils/logger';

/**
 * The HTTP server around the app. requestTimeout bounds the receipt of a whole request; it must allow a large
 * import, whose body streams in at the pace the database takes the rows (Node's 5 min default would cut it),
 * so every other route gets the shorter BODY_TIMEOUT_MS from the bodyDeadline middleware. Headers must still
 * arrive within Node's headersTimeout (60 s); Node checks both every connectionsCheckingInterval.
 */
export function createHttpServer(app: Express, log: Logger = defaultLogger): Server {
  const requestTimeout = config.http.requestTimeoutMs;
  const server = createServer(
    { requestTimeout, connectionsCheckingInterval: Math.min(30_000, Math.ceil(requestTimeout / 2)), ...appMessageClasses(app) },
    app,
  );
  server.on('clientError', (error: Error, socket: Duplex) => answerClientError(error, socket, log));
  return server;
}

/** What Node answers itself, before any route sees the request (its own choice of status, kept). */
function clientErrorFor(code: unknown): AppError {
  if (code === 'HPE_HEADER_OVERFLOW') return new AppError(431, 'HEADERS_TOO_LARGE', 'Request headers are too large');
  if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return AppError.payloadTooLarge('Chunk extensions are too large');
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return AppError.requestTimeout();
  return AppError.badRequest('Malformed HTTP request');
}

// Node's own handler writes nothing once a response on this socket has started (its internal _httpMessage):
// bytes written then would corrupt that response.
function responseStarted(socket: Duplex): boolean {
  const message: unknown = Reflect.get(socket, '_httpMessage');
  return typeof message === 'object' && message !== null && Reflect.get(message, 'headersSent') === true;
}

/**
 * Node's answers to a request it cannot parse (bad header, headers too large, request timeout) are bare
 * status lines. There is no request or response object here, so the SPEC §5 error body is written as a
 * whole HTTP/1.1 response on the socket, which then closes.
 */
export function answerClientError(error: Error, socket: Duplex, log: Logger): void {
  const code: unknown = Reflect.get(error, 'code');
  log.debug({ code, message: error.message }, 'client error');
  if (code === 'ECONNRESET' || !socket.writable || responseStarted(socket)) {
    socket.destroy();
    return;
  }
  const appError = clientErrorFor(code);
  const body = JSON.stringify({ error: appError.message, code: appError.code, details: [] });
  const head = [
    `HTTP/1.1 ${appError.status} ${STATUS_CODES[appError.status] ?? 'Error'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    'Connection: close',
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`, () => socket.destroy());
}
