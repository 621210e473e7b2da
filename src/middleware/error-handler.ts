import type { NextFunction, Request, Response } from 'express';
import mongoose from 'mongoose';
import { ZodError } from 'zod';
import { isConnectionError, isDuplicateKey } from '../database/errors';
import { AppError, type ErrorDetail } from '../utils/app-error';
import { zodIssuesToDetails } from '../utils/zod-details';
import { loggerFor } from './request-logger';

interface HttpErrorLike extends Error {
  status: number;
  type?: string;
  message: string;
  expose?: boolean;
}

// Errors of the http-errors family carry a status: body-parser's and raw-body's (with a type), a body that
// does not decompress (zlib's error, given status 400 by body-parser), a path parameter that does not
// percent-decode (the router's URIError, status 400).
function isHttpError(error: unknown): error is HttpErrorLike {
  return error instanceof Error && typeof Reflect.get(error, 'status') === 'number';
}

// zlib's codes for a corrupt stream: Z_DATA_ERROR (gzip, deflate), ERR__ERROR_FORMAT_… (brotli).
function isDecompressionError(error: Error): boolean {
  const code: unknown = Reflect.get(error, 'code');
  return typeof code === 'string' && /^(Z_|ERR__ERROR_)/.test(code);
}

// Socket-level failures that reach a request can only come from the database connection: it is the only
// socket a request handler uses (mail goes through the outbox worker). The driver lets a write on a
// half-closed socket surface as Node's plain EPIPE error.
const socketErrorCodes = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'ENOTCONN']);

// FerretDB on SQLite refuses a write it could not lock in time ("database is locked", SQLITE_BUSY): the
// database is busy, not the request wrong, so the client is told to retry.
const sqliteBusy = /SQLITE_BUSY|database is locked/;

// Server errors that say the server cannot serve now, not that the request was wrong: shutting down,
// stepping down, no primary, unreachable peer (mongod's error codes).
const serverUnavailableCodes = new Set([6, 7, 89, 91, 189, 9001, 10107, 11600, 11602, 13435, 13436]);

function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof mongoose.mongo.MongoServerError && sqliteBusy.test(error.message)) return true;
  if (error instanceof mongoose.mongo.MongoServerError && typeof error.code === 'number' && serverUnavailableCodes.has(error.code))
    return true;
  if (isConnectionError(error)) return true;
  // A transaction that kept meeting write conflicts until its retry budget ran out: busy, not wrong.
  if (error instanceof mongoose.mongo.MongoError && error.hasErrorLabel('TransientTransactionError')) return true;
  if ('code' in error && typeof error.code === 'string' && socketErrorCodes.has(error.code)) return true;
  // With bufferCommands off, Mongoose refuses queries before (re)connection with a plain MongooseError.
  return error.name === 'MongooseError' && /before initial connection|Connection .* closed|client was closed/i.test(error.message);
}

function duplicateKeyDetails(error: Error): ErrorDetail[] {
  const keys = 'keyValue' in error ? error.keyValue : 'keyPattern' in error ? error.keyPattern : undefined;
  const fields = typeof keys === 'object' && keys !== null ? Object.keys(keys) : [];
  return fields.map<ErrorDetail>((field) => ({ field, message: `${field} is already in use` }));
}

/** Maps any thrown value to the SPEC §5 error body. Plain `if` branches, one per error class. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;

  if (error instanceof ZodError) return AppError.validation(zodIssuesToDetails(error.issues, 'body'));

  if (error instanceof mongoose.Error.CastError) {
    return AppError.badRequest(`Invalid value for ${error.path}`, [{ field: error.path, message: `expected ${error.kind}` }]);
  }

  if (error instanceof mongoose.Error.ValidationError) {
    return AppError.validation(Object.entries(error.errors).map(([field, e]) => ({ location: 'body', field, message: e.message })));
  }

  if (isDuplicateKey(error)) {
    const details = duplicateKeyDetails(error);
    const what = details.map((d) => d.field).join(', ') || 'value';
    return AppError.conflict(`A record with this ${what} already exists`, details, 'DUPLICATE');
  }

  if (isHttpError(error) && error.status < 500) {
    if (error.status === 413) return AppError.payloadTooLarge();
    if (error.status === 415) return AppError.unsupportedMediaType(error.message);
    if (error.type === 'entity.parse.failed') return AppError.badRequest('Malformed JSON in request body');
    if (error instanceof URIError) return AppError.badRequest('Malformed percent-encoding in the URL path');
    if (isDecompressionError(error)) return AppError.badRequest('Request body does not decompress as its Content-Encoding says');
    return new AppError(error.status, 'BAD_REQUEST', error.expose === false ? 'Bad request' : error.message);
  }

  if (isDatabaseUnavailable(error)) return AppError.databaseUnavailable();

  return new AppError(500, 'INTERNAL_ERROR', 'Internal server error');
}

// Express recognises error middleware by its four parameters, so `next` stays even though it is unused.
export function errorHandler(error: unknown, req: Request, res: Response, _next: NextFunction): void {
  const appError = toAppError(error);
  if (appError.status >= 500) {
    loggerFor(req, res).error({ err: error, code: appError.code }, 'request failed');
  } else {
    loggerFor(req, res).debug({ code: appError.code, message: appError.message }, 'request rejected');
  }
  if (res.headersSent) {
    // A streamed response already started: the only honest signal left is to cut the connection.
    res.destroy();
    return;
  }
  for (const [name, value] of Object.entries(appError.headers ?? {})) res.setHeader(name, value);
  res.status(appError.status).json({
    error: appError.message,
    code: appError.code,
    details: appError.details ?? [],
  });
}

export function notFoundHandler(req: Request): never {
  throw new AppError(404, 'NOT_FOUND', `Route ${req.method} ${req.path} not found`);
}
