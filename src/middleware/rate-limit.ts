import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { rateLimit, type Store } from 'express-rate-limit';
import { AppError } from '../utils/app-error';

export interface LimiterOptions {
  /** Prefix that keeps each limiter's counters apart in a shared store. */
  name: string;
  windowMs: number;
  limit: number;
  store?: Store;
  message?: string;
}

/**
 * A named limiter: standard `RateLimit-*` headers (IETF draft 6), `Retry-After` and the SPEC §5 JSON body
 * on 429. Clients are keyed by IP, which is only trustworthy because `trust proxy` is a hop count.
 */
export function createRateLimiter(options: LimiterOptions): RequestHandler {
  return rateLimit({
    windowMs: options.windowMs,
    limit: options.limit,
    standardHeaders: 'draft-6',
    legacyHeaders: false,
    identifier: options.name,
    store: options.store,
    // The API must stay up when a shared store (MongoDB) is briefly away: let the request through.
    passOnStoreError: true,
    handler(_req: Request, res: Response, next: NextFunction) {
      // The library has already computed Retry-After from the store's reset time.
      const retryAfter = Number(res.getHeader('Retry-After')) || options.windowMs / 1000;
      next(AppError.tooManyRequests(options.message ?? 'Too many requests, slow down', retryAfter));
    },
  });
}
