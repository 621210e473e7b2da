// First: it notes the threads that exist before any module can start libuv's pool.
import { deprioritiseThreadPool } from './utils/thread-pool';
import type { Server } from 'node:http';
import { createApp } from './app';
import { createHttpServer } from './http-server';
import { startClusterPrimary } from './cluster';
import { config } from './config/env';
import {
  connectWithRetry,
  disconnectDatabase,
  logConnectionChanges,
  prepareDatabase,
  sweepExpired,
  ttlFallbacks,
} from './database/connect';
import { embeddedMongoAdvice, EmbeddedMongoError, startEmbeddedMongo, type EmbeddedMongo } from './database/embedded-mongo';
import { ensureConfiguredAdmin } from './services/auth.service';
import { markSetupDone } from './services/health.service';
import { runMigrations } from './services/migrations.service';
import { startOutboxWorker, type OutboxWorker } from './services/outbox.worker';
import { failStaleJobs, failStaleReverts, startStaleJobSweeper } from './services/customer-import';
import { startTrashPurger } from './services/trash-admin.service';
import { settleDuplicateMarks } from './services/duplicate-marker.service';
import { logger } from './utils/logger';

async function listen(loweredThreads: number): Promise<Server> {
  const server: Server = createHttpServer(createApp());
  server.listen(config.http.port, config.http.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  logger.info({ port, host: config.http.host, env: config.env, threadPoolSize: config.http.threadPoolSize, loweredThreads }, 'listening');
  return server;
}

function sweepWhereNoTtl(): void {
  if (ttlFallbacks.length === 0) return;
  logger.warn(
    { collections: ttlFallbacks.map((t) => t.collection.name) },
    'no TTL index support: sweeping expired documents every 10 minutes',
  );
  setInterval(() => {
    sweepExpired().catch((error: unknown) => logger.warn({ err: error }, 'expired-document sweep failed'));
  }, 600_000).unref();
}

/**
 * Everything between "listening" and "ready": the database (retried until it answers), its engine's features,
 * indexes, data migrations, interrupted imports, the configured ADMIN and the outbox worker. /readyz answers 200 only after it.
 */
async function setUp(uri: string, signal: AbortSignal): Promise<OutboxWorker | undefined> {
  await connectWithRetry(uri, { timeoutMs: config.db.timeoutMs }, logger, signal);
  logConnectionChanges(logger);
  const engine = await prepareDatabase(config.db.features);
  logger.info({ engine }, 'database connected, engine features detected, indexes ensured');
  sweepWhereNoTtl();
  // Data written by an earlier version brought up to this one's shape (idempotent, see migrations.service.ts).
  await runMigrations();
  // Imports whose process died (this one's previous run, or a lost instance) end as failed; reverts whose
  // process died are marked interrupted (the next request for them resumes them).
  await failStaleJobs();
  await failStaleReverts();
  startStaleJobSweeper();
  // Deletions older than TRASH_RETENTION_DAYS, every TRASH_PURGE_INTERVAL_MS (on every instance: idempotent).
  startTrashPurger();
  const admin = await ensureConfiguredAdmin();
  if (admin === 'created') logger.info({ email: config.auth.admin?.email }, 'created the configured ADMIN account');
  const worker = config.outbox.enabled && !signal.aborted ? startOutboxWorker({ logger }) : undefined;
  markSetupDone();
  logger.info('ready');
  return worker;
}

interface Running {
  server: Server;
  connecting: AbortController;
  ready: Promise<OutboxWorker | undefined>;
  embedded: EmbeddedMongo | undefined;
}

/** SIGTERM/SIGINT: no new connections, in-flight requests finish, the worker finishes its attempts, then exit. */
async function shutdown({ server, connecting, ready, embedded }: Running, signal: string): Promise<void> {
  logger.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
  connecting.abort();
  const deadline = Date.now() + config.http.shutdownTimeoutMs;
  const forced = setTimeout(() => {
    logger.warn('grace period over: closing remaining connections');
    server.closeAllConnections();
  }, config.http.shutdownTimeoutMs);
  forced.unref();
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    // Keep-alive connections with no request in flight would otherwise hold close() open.
    server.closeIdleConnections();
  });
  clearTimeout(forced);
  // Marks the finished requests queued are written before the database closes, within what is left of the grace period.
  await settleWithin(deadline);
  const outboxWorker = await ready;
  // The worker finishes the attempts it holds and records their outcome before the database closes.
  await outboxWorker?.stop().catch((error: unknown) => logger.warn({ err: error }, 'outbox worker stop failed'));
  await disconnectDatabase().catch((error: unknown) => logger.warn({ err: error }, 'database close failed'));
  await embedded?.stop().catch((error: unknown) => logger.warn({ err: error }, 'embedded database stop failed'));
  logger.info('stopped');
  process.exit(0);
}

/** settleDuplicateMarks, unless the deadline comes first (then logged: those groups appear at a later write). */
async function settleWithin(deadline: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), Math.max(0, deadline - Date.now()));
  });
  const outcome = await Promise.race([settleDuplicateMarks(), late]);
  clearTimeout(timer);
  if (outcome === 'late') logger.warn('grace period over: duplicate marks still queued are not written');
}

async function main(): Promise<void> {
  for (const warning of config.warnings) logger.warn(warning);
  // WEB_CONCURRENCY > 1: this process only supervises the workers (src/cluster.ts), each of which runs main().
  if (startClusterPrimary()) return;
  // Before anything else uses the pool (listen's address lookup does).
  const loweredThreads = await deprioritiseThreadPool(logger);

  let embedded: EmbeddedMongo | undefined;
  let uri = config.db.uri;
  if (!uri) {
    logger.warn({ dataDir: config.db.dataDir }, 'MONGODB_URI is not set: starting an embedded MongoDB');
    embedded = await startEmbeddedMongo({ dataDir: config.db.dataDir });
    uri = embedded.uri;
  }

  // Listen first so /healthz answers and /readyz says "not ready" while the database comes up.
  const server = await listen(loweredThreads);
  const connecting = new AbortController();
  const ready = setUp(uri, connecting.signal).catch((error: unknown) => {
    if (!connecting.signal.aborted) {
      logger.fatal({ err: error }, 'database setup failed');
      process.exit(1);
    }
    return undefined;
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    void shutdown({ server, connecting, ready, embedded }, signal);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  if (error instanceof EmbeddedMongoError) {
    // For a person at a terminal, before any JSON: what failed and the two ways out, with no stack trace.
    process.stderr.write(
      `\n${embeddedMongoAdvice(error.reason, { command: 'npm start', uriExample: 'mongodb://127.0.0.1:27017/crm' })}\n\n`,
    );
    logger.fatal({ reason: error.reason }, 'embedded MongoDB could not start (MONGODB_URI is not set)');
  } else {
    logger.fatal({ err: error }, 'failed to start');
  }
  process.exit(1);
});
