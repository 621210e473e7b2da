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
  prepareDatabase,
  startEmbeddedMongo,
  sweepExpired,
  ttlFallbacks,
  type EmbeddedMongo,
} from './database/connect';
import { ensureConfiguredAdmin } from './services/auth.service';
import { markSetupDone } from './services/health.service';
import { startOutboxWorker, type OutboxWorker } from './services/outbox.worker';
import { failStaleJobs, startStaleJobSweeper } from './services/customer-import';
import { logger } from './utils/logger';

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

  const app = createApp();
  const server: Server = createHttpServer(app);
  server.listen(config.http.port, config.http.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  logger.info({ port, host: config.http.host, env: config.env, threadPoolSize: config.http.threadPoolSize, loweredThreads }, 'listening');

  // Listen first so /healthz answers and /readyz says "not ready" while the database comes up.
  const connecting = new AbortController();
  let outboxWorker: OutboxWorker | undefined;
  const ready = connectWithRetry(uri, { timeoutMs: config.db.timeoutMs }, logger, connecting.signal)
    .then(async () => {
      const engine = await prepareDatabase(config.db.features);
      logger.info({ engine }, 'database connected, engine features detected, indexes ensured');
      if (ttlFallbacks.length > 0) {
        logger.warn({ collections: ttlFallbacks.map((t) => t.collection.name) }, 'no TTL index support: sweeping expired documents every 10 minutes');
        setInterval(() => {
          sweepExpired().catch((error: unknown) => logger.warn({ err: error }, 'expired-document sweep failed'));
        }, 600_000).unref();
      }
      // Imports whose process died (this one's previous run, or a lost instance) end as failed.
      await failStaleJobs();
      startStaleJobSweeper();
      const admin = await ensureConfiguredAdmin();
      if (admin === 'created') logger.info({ email: config.auth.admin?.email }, 'created the configured ADMIN account');
      if (config.outbox.enabled && !connecting.signal.aborted) outboxWorker = startOutboxWorker({ logger });
      markSetupDone();
      logger.info('ready');
    })
    .catch((error: unknown) => {
      if (!connecting.signal.aborted) {
        logger.fatal({ err: error }, 'database setup failed');
        process.exit(1);
      }
    });

  let stopping = false;
  async function shutdown(signal: string) {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
    connecting.abort();
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
    await ready;
    // The worker finishes the attempts it holds and records their outcome before the database closes.
    await outboxWorker?.stop().catch((error: unknown) => logger.warn({ err: error }, 'outbox worker stop failed'));
    await disconnectDatabase().catch((error: unknown) => logger.warn({ err: error }, 'database close failed'));
    await embedded?.stop().catch((error: unknown) => logger.warn({ err: error }, 'embedded database stop failed'));
    logger.info('stopped');
    process.exit(0);
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  logger.fatal({ err: error }, 'failed to start');
  process.exit(1);
});
