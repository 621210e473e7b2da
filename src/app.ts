import express, { type Express, type RequestHandler, type Router } from 'express';
import type { Logger } from 'pino';
import { config } from './config/env';
import { bodyDeadline, type BodyDeadlineOptions } from './middleware/body-deadline';
import { corsAllowList } from './middleware/cors';
import { errorHandler, notFoundHandler } from './middleware/error-handler';
import { parseBody } from './middleware/parse-body';
import { createRateLimiter } from './middleware/rate-limit';
import { requestLogger } from './middleware/request-logger';
import { securityHeaders } from './middleware/security-headers';
import { openApiYaml } from './openapi/document';
import { apiRoutes } from './routes/api';
import type { RouteDeclaration } from './routes/route';
import { buildApi } from './routes/router';
import { jsonInOneWrite, weakETag, type JsonResponse } from './utils/json-response';
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
  /** Reverse-proxy hops trusted for X-Forwarded-*; default TRUST_PROXY. */
  trustProxy?: number;
  corsOrigins?: readonly string[];
  /** Allow http://localhost:* and http://127.0.0.1:* as well; default CORS_ALLOW_LOCALHOST (on outside production). */
  corsAllowLocalhost?: boolean;
  /** `always`: helmet's upgrade-insecure-requests and HSTS on every response; default CSP_UPGRADE_INSECURE_REQUESTS. */
  cspUpgradeInsecureRequests?: 'auto' | 'always';
  /** The API's routes; default: all of them (tests add declarations of their own). */
  routes?: readonly RouteDeclaration[];
  /** Routers mounted after the API's own, before the 404 handler (embedding and tests). */
  extraRouters?: Router[];
}

/** Builds the Express application without listening, so tests and server.ts share one construction. */
export function createApp(options: AppOptions = {}): Express {
  const logger = options.logger ?? defaultLogger;
  const limits = buildLimiters(options.rateLimit, logger);

  const app = express();
  app.disable('x-powered-by');
  // Express's res.json for this app only (app.response is the app's own prototype of every res).
  const response = app.response as unknown as JsonResponse;
  response.json = jsonInOneWrite(response.json);
  app.set('etag', weakETag);
  // A hop count, never `true`: trusting every X-Forwarded-For would let any client pick its own rate-limit key.
  app.set('trust proxy', options.trustProxy ?? config.http.trustProxy);

  app.use(requestLogger(logger));
  app.use(
    bodyDeadline({
      timeoutMs: options.bodyDeadline?.timeoutMs ?? config.http.bodyTimeoutMs,
      maxPendingPerClient: options.bodyDeadline?.maxPendingPerClient ?? config.http.maxPendingBodiesPerClient,
    }),
  );
  app.use(securityHeaders(options.cspUpgradeInsecureRequests ?? config.http.cspUpgradeInsecureRequests));
  app.use(
    corsAllowList({
      origins: options.corsOrigins ?? config.http.corsOrigins,
      allowLocalhost: options.corsAllowLocalhost ?? config.http.corsAllowLocalhost,
      log: logger,
    }),
  );

  const routes = options.routes ?? apiRoutes;
  const parse = parseBody({ limit: options.bodyLimit ?? config.http.bodyLimit });
  const api = buildApi(routes, {
    limits,
    parseBody: parse,
    importMaxBytes: options.importMaxBytes ?? config.dataImport.maxBytes,
    openApiYaml: () => openApiYaml(routes),
  });

  app.use(api.unlimited);
  app.use(limits.global);
  app.use(api.curlDataCompat);
  app.use(api.methodNotAllowed);
  app.use(api.routes);
  // Each route parses its own body (or streams it); extra routers and unknown paths get theirs read here,
  // so a malformed body is refused as such wherever it goes.
  app.use(parse);
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
