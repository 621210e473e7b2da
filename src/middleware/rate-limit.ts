import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator, rateLimit, type Store } from 'express-rate-limit';
import type { Logger } from 'pino';
import { MongoRateLimitStore } from '../database/mongo-rate-limit-store';
import { verifiedKeyPrefix } from '../services/integrations';
import { AppError } from '../utils/app-error';
import { apiKeyFromRequest, tokenFromRequest } from './authenticate';

export interface LimiterOptions {
  /** Prefix that keeps each limiter's counters apart in a shared store. */
  name: string;
  windowMs: number;
  limit: number;
  /** `mongo` shares the counters between instances; `memory` (default) keeps them in this process. */
  store?: 'memory' | 'mongo' | Store;
  message?: string;
  log?: Logger;
}

/**
 * ipKeyGenerator's key for an address (the address itself, or its /56 subnet for IPv6), kept for the next request
 * from it: the library parses the address (ip-address) on every call, IPv4-mapped `::ffff:` ones included, which
 * was most of the global limiter's ~60–80 µs a request. Forgotten all at once past IP_KEYS_MAX addresses. Its name
 * keeps `ipKeyGenerator` in clientKey's source, which the library reads to check that IPv6 clients are keyed by
 * subnet (ERR_ERL_KEY_GEN_IPV6, logged at each limiter's first request otherwise; duplicate-key.test.ts).
 */
const ipKeys = new Map<string, string>();
const IP_KEYS_MAX = 10_000;
function ipKeyGeneratorCached(ip: string): string {
  let key = ipKeys.get(ip);
  if (key === undefined) {
    if (ipKeys.size >= IP_KEYS_MAX) ipKeys.clear();
    key = ipKeyGenerator(ip);
    ipKeys.set(ip, key);
  }
  return key;
}

/**
 * Who a request counts for: an API key this process has verified counts per key (`key:<prefix>`, SPEC §8),
 * anything else per IP — which is only trustworthy because `trust proxy` is a hop count.
 */
function clientKey(req: Request): string {
  const apiKey = apiKeyFromRequest(req, tokenFromRequest(req));
  const prefix = apiKey === undefined ? undefined : verifiedKeyPrefix(apiKey);
  return prefix ? `key:${prefix}` : ipKeyGeneratorCached(req.ip ?? req.socket.remoteAddress ?? 'unknown');
}

/**
 * A named limiter: standard `RateLimit-*` headers (IETF draft 6), `Retry-After` and the SPEC §5 JSON body
 * on 429.
 */
export function createRateLimiter(options: LimiterOptions): RequestHandler {
  return rateLimit({
    windowMs: options.windowMs,
    limit: options.limit,
    standardHeaders: 'draft-6',
    legacyHeaders: false,
    identifier: options.name,
    keyGenerator: clientKey,
    store: options.store === 'mongo' ? new MongoRateLimitStore(options.name) : options.store === 'memory' ? undefined : options.store,
    // The API must stay up when a shared store (MongoDB) is briefly away: let the request through, and say so.
    passOnStoreError: true,
    logger: {
      warn: (message: unknown) => options.log?.warn({ limiter: options.name, detail: String(message) }, 'rate limiter warning'),
      error: (error: unknown) =>
        options.log?.warn(
          { limiter: options.name, err: error instanceof Error ? { name: error.name, message: error.message } : String(error) },
          'rate-limit store failed: request allowed without counting',
        ),
    },
    handler(_req: Request, res: Response, next: NextFunction) {
      // The library has already computed Retry-After from the store's reset time.
      const retryAfter = Number(res.getHeader('Retry-After')) || options.windowMs / 1000;
      next(AppError.tooManyRequests(options.message ?? 'Too many requests, slow down', retryAfter));
    },
  });
}
