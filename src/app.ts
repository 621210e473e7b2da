import cors from 'cors';
import express, { type Express, type Router } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { config } from './config/env';
import { errorHandler, notFoundHandler } from './middleware/error-handler';
import { parseBody } from './middleware/parse-body';
import { createRateLimiter } from './middleware/rate-limit';
import { requestLogger } from './middleware/request-logger';
import { opsRouter } from './routes/ops.routes';
import { logger as defaultLogger } from './utils/logger';

export interface AppOptions {
  logger?: Logger;
  /** Global per-client limit; `false` turns it off. Defaults come from config. */
  rateLimit?: { windowMs: number; limit: number } | false;
  bodyLimit?: number;
  corsOrigins?: readonly string[];
  /** Routers mounted after the API's own, before the 404 handler (embedding and tests). */
  extraRouters?: Router[];
}

/** Builds the Express application without listening, so tests and server.ts share one construction. */
export function createApp(options: AppOptions = {}): Express {
  const logger = options.logger ?? defaultLogger;
  const corsOrigins = options.corsOrigins ?? config.http.corsOrigins;
  const rateLimitOptions =
    options.rateLimit ?? (config.rateLimit.enabled ? { windowMs: config.rateLimit.windowMs, limit: config.rateLimit.max } : false);

  const app = express();
  app.disable('x-powered-by');
  // A hop count, never `true`: trusting every X-Forwarded-For would let any client pick its own rate-limit key.
  app.set('trust proxy', config.http.trustProxy);

  app.use(requestLogger(logger));
  app.use(helmet());
  app.use(
    cors({
      origin: corsOrigins.includes('*') ? true : [...corsOrigins],
      exposedHeaders: ['X-Request-Id', 'X-Total-Count', 'Link', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'Retry-After'],
      maxAge: 600,
    }),
  );

  app.use(opsRouter);
  if (rateLimitOptions) app.use(createRateLimiter({ name: 'global', ...rateLimitOptions }));

  app.use(parseBody({ limit: options.bodyLimit ?? config.http.bodyLimit }));
  for (const router of options.extraRouters ?? []) app.use(router);

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
