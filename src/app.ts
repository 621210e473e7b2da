import cors from 'cors';
import express, { type Express, type RequestHandler, type Router } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { config } from './config/env';
import { bodyDeadline, type BodyDeadlineOptions } from './middleware/body-deadline';
import { errorHandler, notFoundHandler } from './middleware/error-handler';
import { methodNotAllowed } from './middleware/method-not-allowed';
import { parseBody } from './middleware/parse-body';
import { createRateLimiter } from './middleware/rate-limit';
import { requestLogger } from './middleware/request-logger';
import { curlDataCompat } from './middleware/curl-compat';
import { analyticsRoutes } from './routes/analytics.routes';
import { authRoutes } from './routes/auth.routes';
import { activityRoutes } from './routes/activity.routes';
import { customerRoutes } from './routes/customer.routes';
import { importExportRoutes } from './routes/import.routes';
import { interactionRoutes } from './routes/interaction.routes';
import { notificationRoutes } from './routes/notification.routes';
import { opsRouter } from './routes/ops.routes';
import { outboxRoutes } from './routes/outbox.routes';
import { ticketRoutes } from './routes/ticket.routes';
import { userRoutes } from './routes/user.routes';
import { logger as defaultLogger } from './utils/logger';

interface LimitSetting {
  windowMs: number;
  limit: number;
}

export interface AppOptions {
  logger?: Logger;
  /** Per-client limits; `false` turns them all off. Each defaults to config, as does the store. */
  rateLimit?: { global?: LimitSetting; auth?: LimitSetting; data?: LimitSetting; store?: 'memory' | 'mongo' } | false;
  bodyLimit?: number;
  /** Body deadline and per-client cap of unfinished bodies; default BODY_TIMEOUT_MS, BODY_MAX_PENDING_PER_CLIENT. */
  bodyDeadline?: Partial<BodyDeadlineOptions>;
  /** Largest import file; defaults to IMPORT_MAX_BYTES. */
  importMaxBytes?: number;
  corsOrigins?: readonly string[];
  /** Routers mounted after the API's own, before the 404 handler (embedding and tests). */
  extraRouters?: Router[];
}

/** Builds the Express application without listening, so tests and server.ts share one construction. */
export function createApp(options: AppOptions = {}): Express {
  const logger = options.logger ?? defaultLogger;
  const corsOrigins = options.corsOrigins ?? config.http.corsOrigins;
  const limits = buildLimiters(options.rateLimit, logger);

  const app = express();
  app.disable('x-powered-by');
  // A hop count, never `true`: trusting every X-Forwarded-For would let any client pick its own rate-limit key.
  app.set('trust proxy', config.http.trustProxy);

  app.use(requestLogger(logger));
  app.use(
    bodyDeadline({
      timeoutMs: options.bodyDeadline?.timeoutMs ?? config.http.bodyTimeoutMs,
      maxPendingPerClient: options.bodyDeadline?.maxPendingPerClient ?? config.http.maxPendingBodiesPerClient,
    }),
  );
  app.use(helmet());
  app.use(
    cors({
      origin: corsOrigins.includes('*') ? true : [...corsOrigins],
      exposedHeaders: ['X-Request-Id', 'X-Total-Count', 'Link', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'Retry-After'],
      maxAge: 600,
    }),
  );

  app.use(opsRouter);
  app.use(limits.global);

  app.use(curlDataCompat);
  app.use(methodNotAllowed);
  // Before the body parser: imports stream their body.
  app.use(importExportRoutes(limits.data, options.importMaxBytes ?? config.dataImport.maxBytes));
  app.use(parseBody({ limit: options.bodyLimit ?? config.http.bodyLimit }));
  app.use(authRoutes(limits));
  // Before the user and customer routers, whose `/users/:user_id` and `/customers/:cust_id` would
  // otherwise catch `/users/meetings` and `/customers/tickets`.
  app.use(interactionRoutes());
  app.use(ticketRoutes());
  app.use(analyticsRoutes());
  app.use(userRoutes());
  app.use(customerRoutes());
  app.use(notificationRoutes());
  app.use(activityRoutes());
  app.use(outboxRoutes());
  for (const router of options.extraRouters ?? []) app.use(router);

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}

const passThrough: RequestHandler = (_req, _res, next) => next();

function buildLimiters(setting: AppOptions['rateLimit'], log: Logger) {
  if (setting === false || (setting === undefined && !config.rateLimit.enabled)) {
    return { global: passThrough, auth: passThrough, data: passThrough };
  }
  const store = setting?.store ?? config.rateLimit.store;
  const global = setting?.global ?? { windowMs: config.rateLimit.windowMs, limit: config.rateLimit.max };
  const auth = setting?.auth ?? { windowMs: config.rateLimit.authWindowMs, limit: config.rateLimit.authMax };
  const data = setting?.data ?? { windowMs: config.rateLimit.dataWindowMs, limit: config.rateLimit.dataMax };
  return {
    data: createRateLimiter({ name: 'data', ...data, store, log, message: 'Too many imports or exports, try again later' }),
    global: createRateLimiter({ name: 'global', ...global, store, log }),
    auth: createRateLimiter({ name: 'auth', ...auth, store, log, message: 'Too many sign-in or sign-up attempts, try again later' }),
  };
}
