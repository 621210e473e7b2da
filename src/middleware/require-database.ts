import type { NextFunction, Request, Response } from 'express';
import { isDatabaseConnected } from '../database/connect';
import { AppError } from '../utils/app-error';

/**
 * Answers 503 at once while the database is known to be away, instead of letting each request wait for
 * server selection. Requests that slip through during the detection window still fail fast (bounded by
 * MONGODB_TIMEOUT_MS) and are mapped to 503 by the error handler.
 */
export function requireDatabase(_req: Request, _res: Response, next: NextFunction): void {
  if (!isDatabaseConnected()) throw AppError.databaseUnavailable();
  next();
}
