import { hkdfSync, randomBytes } from 'node:crypto';
import dotenv from 'dotenv';
import { isSupportedCountry } from 'libphonenumber-js/min';
import { z } from 'zod';
import { loadOrCreateSecretFile } from '../utils/secret-file';

/** Under DATA_DIR outside production when JWT_SECRET is unset, beside the development encryption key. */
const DEV_JWT_SECRET_FILE = 'dev-jwt.secret';

// The only module that reads process.env. Everything else imports `config`.

const booleanFromEnv = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');

const commaList = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0),
);

const byteSize = z
  .string()
  .regex(/^\d+(b|kb|mb|gb)?$/i, 'expected a size such as 1mb, 512kb or 1048576')
  .transform((v) => {
    const match = /^(\d+)(b|kb|mb|gb)?$/i.exec(v);
    const units: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };
    return Number(match?.[1]) * (units[(match?.[2] ?? 'b').toLowerCase()] ?? 1);
  });

const base64Key = z.string().refine((v) => Buffer.from(v, 'base64').length === 32, 'expected 32 random bytes, base64-encoded');

const oldKeys = z.string().transform((v, ctx) => {
  const keys: Record<string, string> = {};
  for (const entry of v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [id, key] = entry.split(':');
    if (!id || !key || Buffer.from(key, 'base64').length !== 32) {
      ctx.addIssue({ code: 'custom', message: 'expected a comma-separated list of <key id>:<32 bytes base64>' });
      return z.NEVER;
    }
    keys[id] = key;
  }
  return keys;
});

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  TRUST_PROXY: z.coerce.number().int().min(0).max(10).default(0),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  CORS_ORIGINS: commaList.default([]),
  // Default: on outside production (a front-end dev server on http://localhost:3000 just works), off in it.
  CORS_ALLOW_LOCALHOST: booleanFromEnv.optional(),
  // auto: helmet's upgrade-insecure-requests only on requests that arrived over TLS (req.secure, which honours
  // TRUST_PROXY); on plain HTTP it would send a browser to https:// for /docs' assets, and the page stays blank.
  CSP_UPGRADE_INSECURE_REQUESTS: z.enum(['auto', 'always']).default('auto'),
  BODY_LIMIT: byteSize.default(1024 * 1024),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  // Node's default (5 min) cuts a streamed import whose upload is slowed by the import's own backpressure.
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1000).max(86_400_000).default(3_600_000),
  // Every other route must receive its body within this (a slow body holds a connection without a token).
  BODY_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  // One address may stand for many clients (an office NAT, a proxy when TRUST_PROXY is 0): generous.
  BODY_MAX_PENDING_PER_CLIENT: z.coerce.number().int().min(1).max(10_000).default(100),
  WEB_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  // Read by libuv itself when the thread pool (bcrypt, crypto, fs) first starts; validated here.
  UV_THREADPOOL_SIZE: z.coerce.number().int().min(1).max(1024).optional(),

  MONGODB_URI: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, 'expected a mongodb:// or mongodb+srv:// URI')
    .optional(),
  MONGODB_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(500),
  DATA_DIR: z.string().min(1).default('./data'),
  // auto: used where the engine has them (detected at start); off: never.
  MONGODB_TRANSACTIONS: z.enum(['auto', 'off']).default('auto'),
  MONGODB_CHANGE_STREAMS: z.enum(['auto', 'off']).default('auto'),

  JWT_SECRET: z.string().min(1).optional(),
  JWT_ISSUER: z.string().min(1).default('crm-api'),
  JWT_AUDIENCE: z.string().min(1).default('crm-clients'),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(86_400).default(3600),
  REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  BCRYPT_COST: z.coerce.number().int().min(4).max(15).default(12),
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).max(100).default(5),
  LOGIN_LOCK_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
  ADMIN_EMAIL: z.string().trim().toLowerCase().email('expected an e-mail address').optional(),
  ADMIN_PASSWORD: z
    .string()
    .refine((v) => Buffer.byteLength(v) >= 8 && Buffer.byteLength(v) <= 72, 'expected 8 to 72 bytes')
    .optional(),
  ADMIN_NAME: z.string().trim().min(1).max(200).default('Administrator'),

  DATA_ENCRYPTION_KEY: base64Key.optional(),
  DATA_ENCRYPTION_KEY_ID: z
    .string()
    .regex(/^[\w-]{1,32}$/, 'expected 1-32 letters, digits, _ or -')
    .default('k1'),
  DATA_ENCRYPTION_OLD_KEYS: oldKeys.default({}),

  // Limits without a default here take one by mode (rateLimitDefaults).
  RATE_LIMIT_WINDOW_MS: z.coerce.number().int().min(1000).default(60_000),
  RATE_LIMIT_MAX: z.coerce.number().int().min(1).optional(),
  RATE_LIMIT_ENABLED: booleanFromEnv.default(true),
  RATE_LIMIT_STORE: z.enum(['memory', 'mongo']).default('memory'),
  AUTH_RATE_LIMIT_WINDOW_MS: z.coerce.number().int().min(1000).default(900_000),
  AUTH_RATE_LIMIT_MAX: z.coerce.number().int().min(1).optional(),

  SMTP_HOST: z.string().trim().min(1).optional(),
  SMTP_PORT: z.coerce.number().int().min(1).max(65535).default(587),
  SMTP_SECURE: booleanFromEnv.default(false),
  SMTP_USER: z.string().min(1).optional(),
  SMTP_PASS: z.string().min(1).optional(),
  MAIL_FROM: z.string().trim().min(3).default('CRM <no-reply@crm.local>'),
  OUTBOX_ENABLED: booleanFromEnv.default(true),
  OUTBOX_POLL_MS: z.coerce.number().int().min(10).max(600_000).default(1000),
  OUTBOX_IDLE_POLL_MS: z.coerce.number().int().min(10).max(3_600_000).default(30_000),
  OUTBOX_BATCH_SIZE: z.coerce.number().int().min(1).max(500).default(50),
  OUTBOX_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(6),
  OUTBOX_LEASE_MS: z.coerce.number().int().min(1000).max(3_600_000).default(60_000),
  OUTBOX_BACKOFF_MS: z.coerce.number().int().min(1).max(3_600_000).default(5000),
  WEBHOOK_ALLOW_PRIVATE: booleanFromEnv.default(false),
  WEBHOOK_ALLOW_HTTP: booleanFromEnv.optional(),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  WEBHOOK_BACKOFF_MS: z.coerce.number().int().min(1).max(3_600_000).default(5000),
  WEBHOOK_RETRY_HOURS: z.coerce.number().min(0).max(720).default(24),
  WEBHOOK_DISABLE_AFTER_FAILURES: z.coerce.number().int().min(1).max(100_000).default(50),
  WEBHOOK_SECRET_GRACE_HOURS: z.coerce.number().min(0).max(720).default(24),
  WEBHOOK_ENDPOINT_CACHE_MS: z.coerce.number().int().min(0).max(600_000).default(2000),
  DATA_RATE_LIMIT_WINDOW_MS: z.coerce.number().int().min(1000).default(60_000),
  DATA_RATE_LIMIT_MAX: z.coerce.number().int().min(1).optional(),

  IMPORT_MAX_BYTES: byteSize.default(512 * 1024 * 1024),
  IMPORT_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(1000),
  IMPORT_MAX_ERRORS: z.coerce.number().int().min(1).max(10_000).default(100),
  IMPORT_JOB_STALE_MS: z.coerce.number().int().min(1000).max(3_600_000).default(30_000),
  IMPORT_LOOKUP_BUDGET_MS: z.coerce.number().int().min(0).max(3_600_000).default(1000),

  // The trash: how long a deletion stays restorable, how often the purge runs, and its batch size.
  TRASH_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  TRASH_PURGE_INTERVAL_MS: z.coerce.number().int().min(1000).max(86_400_000).default(3_600_000),
  TRASH_PURGE_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  // Region of phone numbers written without a country code (ISO 3166-1 alpha-2), for the duplicate rule; empty:
  // none, so only numbers with a country code are normalised (others compare by their digits).
  DEFAULT_PHONE_REGION: z
    .string()
    .trim()
    .toUpperCase()
    .refine((v) => v === '' || isSupportedCountry(v), 'expected a region code libphonenumber-js knows (IN, DE, US, …), or empty for none')
    .default('IN'),

  // Keyed hash of API keys (HMAC-SHA256); unset: derived from JWT_SECRET.
  API_KEY_PEPPER: z.string().min(32, 'expected at least 32 characters').optional(),
  API_KEY_LAST_USED_INTERVAL_MS: z.coerce.number().int().min(0).max(86_400_000).default(60_000),
  IDEMPOTENCY_TTL_HOURS: z.coerce.number().int().min(1).max(720).default(24),
  IDEMPOTENCY_LEASE_MS: z.coerce.number().int().min(1000).max(3_600_000).default(30_000),
});

/**
 * Per-client limits when their variable is unset. Production keeps strict ones; elsewhere they are set so that a
 * developer working by hand (and a front-end refreshing its token, retrying failed calls, hot-reloading) never
 * meets them. The same requests count in both modes, so what development exercises is what production runs.
 */
export const rateLimitDefaults = {
  production: { global: 300, auth: 30, data: 20 },
  development: { global: 10_000, auth: 1000, data: 1000 },
} as const;

export class ConfigError extends Error {}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `  ${issue.path.join('.') || '(root)'}: ${issue.message}`).join('\n');
}

export interface ConfigOptions {
  /** Outside production, where a missing JWT_SECRET comes from (default: random for this call). */
  devSecret?: (dataDir: string) => { value: string; file: string | undefined };
}

/**
 * Parses and checks an environment. Pure apart from generating throwaway development secrets, so tests can
 * call it with any object.
 */
// Long by design: one frozen object literal that maps every variable to its place in the configuration, read
// top to bottom like .env.example; splitting it would scatter that map.
// eslint-disable-next-line max-lines-per-function
export function loadConfig(source: Record<string, string | undefined>, options: ConfigOptions = {}) {
  // An empty variable (`PORT=`) means "not set", as in most twelve-factor tools.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(`Invalid configuration:\n${describeIssues(parsed.error)}`);
  }
  const env = parsed.data;
  const production = env.NODE_ENV === 'production';
  const problems: string[] = [];
  if (production && (!env.JWT_SECRET || env.JWT_SECRET.length < 32)) {
    problems.push('  JWT_SECRET: production needs a secret of at least 32 characters');
  }
  if (production && !env.DATA_ENCRYPTION_KEY) {
    problems.push('  DATA_ENCRYPTION_KEY: production needs 32 random bytes, base64-encoded');
  }
  if (Boolean(env.ADMIN_EMAIL) !== Boolean(env.ADMIN_PASSWORD)) {
    problems.push('  ADMIN_EMAIL / ADMIN_PASSWORD: set both or neither');
  }
  if (Boolean(env.SMTP_USER) !== Boolean(env.SMTP_PASS)) {
    problems.push('  SMTP_USER / SMTP_PASS: set both or neither');
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);

  const warnings: string[] = [];
  // Outside production a missing secret is generated, so `npm start` needs no .env: kept in DATA_DIR by the
  // process loader (a restart, e.g. `npm run dev` reloading, keeps everyone signed in), or per call here.
  const devSecret = env.JWT_SECRET
    ? undefined
    : (options.devSecret?.(env.DATA_DIR) ?? { value: randomBytes(32).toString('base64url'), file: undefined });
  const jwtSecret = env.JWT_SECRET ?? devSecret?.value ?? '';
  const limitDefaults = production ? rateLimitDefaults.production : rateLimitDefaults.development;
  if (devSecret) {
    warnings.push(
      devSecret.file
        ? `JWT_SECRET is not set: signing with a development secret kept in ${devSecret.file} (never use this in production)`
        : 'JWT_SECRET is not set: using a random secret for this process only',
    );
  }

  return Object.freeze({
    env: env.NODE_ENV,
    isProduction: production,
    isTest: env.NODE_ENV === 'test',
    warnings,
    http: Object.freeze({
      host: env.HOST,
      port: env.PORT,
      trustProxy: env.TRUST_PROXY,
      corsOrigins: env.CORS_ORIGINS,
      corsAllowLocalhost: env.CORS_ALLOW_LOCALHOST ?? !production,
      cspUpgradeInsecureRequests: env.CSP_UPGRADE_INSECURE_REQUESTS,
      bodyLimit: env.BODY_LIMIT,
      shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
      requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
      bodyTimeoutMs: env.BODY_TIMEOUT_MS,
      maxPendingBodiesPerClient: env.BODY_MAX_PENDING_PER_CLIENT,
      workers: env.WEB_CONCURRENCY,
      threadPoolSize: env.UV_THREADPOOL_SIZE ?? 4,
    }),
    log: Object.freeze({ level: env.LOG_LEVEL }),
    db: Object.freeze({
      uri: env.MONGODB_URI,
      timeoutMs: env.MONGODB_TIMEOUT_MS,
      dataDir: env.DATA_DIR,
      features: Object.freeze({ transactions: env.MONGODB_TRANSACTIONS === 'auto', changeStreams: env.MONGODB_CHANGE_STREAMS === 'auto' }),
    }),
    auth: Object.freeze({
      jwtSecret,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      accessTokenTtlSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlDays: env.REFRESH_TOKEN_TTL_DAYS,
      bcryptCost: env.BCRYPT_COST,
      loginMaxFailures: env.LOGIN_MAX_FAILURES,
      loginLockSeconds: env.LOGIN_LOCK_SECONDS,
      admin:
        env.ADMIN_EMAIL && env.ADMIN_PASSWORD ? { email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD, name: env.ADMIN_NAME } : undefined,
    }),
    encryption: Object.freeze({
      key: env.DATA_ENCRYPTION_KEY,
      keyId: env.DATA_ENCRYPTION_KEY_ID,
      oldKeys: env.DATA_ENCRYPTION_OLD_KEYS,
    }),
    rateLimit: Object.freeze({
      enabled: env.RATE_LIMIT_ENABLED,
      store: env.RATE_LIMIT_STORE,
      windowMs: env.RATE_LIMIT_WINDOW_MS,
      max: env.RATE_LIMIT_MAX ?? limitDefaults.global,
      authWindowMs: env.AUTH_RATE_LIMIT_WINDOW_MS,
      authMax: env.AUTH_RATE_LIMIT_MAX ?? limitDefaults.auth,
      dataWindowMs: env.DATA_RATE_LIMIT_WINDOW_MS,
      dataMax: env.DATA_RATE_LIMIT_MAX ?? limitDefaults.data,
    }),
    dataImport: Object.freeze({
      maxBytes: env.IMPORT_MAX_BYTES,
      batchSize: env.IMPORT_BATCH_SIZE,
      maxErrors: env.IMPORT_MAX_ERRORS,
      jobStaleMs: env.IMPORT_JOB_STALE_MS,
      lookupBudgetMs: env.IMPORT_LOOKUP_BUDGET_MS,
    }),
    trash: Object.freeze({
      retentionMs: env.TRASH_RETENTION_DAYS * 86_400_000,
      purgeIntervalMs: env.TRASH_PURGE_INTERVAL_MS,
      purgeBatchSize: env.TRASH_PURGE_BATCH_SIZE,
    }),
    duplicates: Object.freeze({
      defaultPhoneRegion: isSupportedCountry(env.DEFAULT_PHONE_REGION) ? env.DEFAULT_PHONE_REGION : undefined,
    }),
    mail: Object.freeze({
      // No host: the outbox worker logs each message instead of sending it.
      smtp: env.SMTP_HOST
        ? Object.freeze({
            host: env.SMTP_HOST,
            port: env.SMTP_PORT,
            secure: env.SMTP_SECURE,
            auth: env.SMTP_USER && env.SMTP_PASS ? Object.freeze({ user: env.SMTP_USER, pass: env.SMTP_PASS }) : undefined,
          })
        : undefined,
      from: env.MAIL_FROM,
    }),
    integrations: Object.freeze({
      // A separate key for API key hashes, so that knowing a stored hash never helps against the JWT secret.
      apiKeyPepper: env.API_KEY_PEPPER
        ? Buffer.from(env.API_KEY_PEPPER)
        : Buffer.from(hkdfSync('sha256', jwtSecret, '', 'crm-api-key-pepper', 32)),
      apiKeyLastUsedIntervalMs: env.API_KEY_LAST_USED_INTERVAL_MS,
      idempotencyTtlMs: env.IDEMPOTENCY_TTL_HOURS * 3_600_000,
      idempotencyLeaseMs: env.IDEMPOTENCY_LEASE_MS,
    }),
    outbox: Object.freeze({
      enabled: env.OUTBOX_ENABLED,
      pollMs: env.OUTBOX_POLL_MS,
      idlePollMs: env.OUTBOX_IDLE_POLL_MS,
      batchSize: env.OUTBOX_BATCH_SIZE,
      maxAttempts: env.OUTBOX_MAX_ATTEMPTS,
      leaseMs: env.OUTBOX_LEASE_MS,
      backoffMs: env.OUTBOX_BACKOFF_MS,
    }),
    webhooks: Object.freeze({
      allowPrivate: env.WEBHOOK_ALLOW_PRIVATE,
      // Plain http is refused in production unless WEBHOOK_ALLOW_HTTP says otherwise; allowed elsewhere.
      allowHttp: env.WEBHOOK_ALLOW_HTTP ?? !production,
      timeoutMs: env.WEBHOOK_TIMEOUT_MS,
      backoffMs: env.WEBHOOK_BACKOFF_MS,
      retryWindowMs: env.WEBHOOK_RETRY_HOURS * 3_600_000,
      disableAfterFailures: env.WEBHOOK_DISABLE_AFTER_FAILURES,
      secretGraceMs: env.WEBHOOK_SECRET_GRACE_HOURS * 3_600_000,
      endpointCacheMs: env.WEBHOOK_ENDPOINT_CACHE_MS,
    }),
  });
}

export type Config = ReturnType<typeof loadConfig>;

function loadProcessConfig(): Config {
  dotenv.config({ quiet: true });
  try {
    return loadConfig(process.env, {
      devSecret: (dataDir) => loadOrCreateSecretFile(dataDir, DEV_JWT_SECRET_FILE, () => randomBytes(32).toString('base64url')),
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      // The logger is configured from this very object, so a bad configuration can only go to stderr.
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

export const config: Config = loadProcessConfig();
