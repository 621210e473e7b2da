import cluster, { type Worker } from 'node:cluster';
import { config } from './config/env';
import { logger } from './utils/logger';

// WEB_CONCURRENCY=N (N > 1): this process becomes a Node cluster primary that forks N workers running the
// whole service on one shared port (connections are handed out round-robin). The primary serves nothing
// itself. SIGTERM/SIGINT are forwarded to every worker, each of which drains its in-flight requests as a
// single instance would; the primary exits 0 once all have exited cleanly (1 if any failed). A worker that
// dies unexpectedly is replaced, unless workers keep dying (a crash loop), when the primary gives up.

const RESTART_WINDOW_MS = 60_000;

/** Starts the cluster primary when WEB_CONCURRENCY > 1; returns false when this process should serve itself. */
export function startClusterPrimary(): boolean {
  const size = config.http.workers;
  if (size <= 1 || !cluster.isPrimary) return false;
  if (!config.db.uri) {
    logger.warn(
      { workers: size },
      'WEB_CONCURRENCY needs MONGODB_URI (each worker would start its own embedded database): running one process',
    );
    return false;
  }

  let stopping = false;
  let failed = false;
  const restarts: number[] = [];
  const live = new Set<Worker>();
  const fork = () => live.add(cluster.fork());

  cluster.on('exit', (worker, code, signal) => {
    live.delete(worker);
    if (stopping) {
      if (code !== 0) failed = true;
      logger.info({ pid: worker.process.pid, code, signal, remaining: live.size }, 'worker stopped');
      if (live.size === 0) {
        logger.info('all workers stopped');
        process.exit(failed ? 1 : 0);
      }
      return;
    }
    const now = Date.now();
    restarts.push(now);
    while (restarts.length > 0 && (restarts[0] ?? now) < now - RESTART_WINDOW_MS) restarts.shift();
    if (restarts.length > size * 3) {
      logger.fatal({ pid: worker.process.pid, code, signal }, 'workers keep dying: stopping the cluster');
      failed = true;
      stop('SIGTERM');
      if (live.size === 0) process.exit(1);
      return;
    }
    logger.error({ pid: worker.process.pid, code, signal }, 'worker died: starting a replacement');
    fork();
  });

  function stop(signal: NodeJS.Signals) {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, workers: live.size }, 'cluster shutting down: forwarding the signal to every worker');
    for (const worker of live) worker.process.kill(signal);
  }
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  logger.info({ workers: size, threadPoolSize: config.http.threadPoolSize }, 'cluster primary: starting workers');
  for (let i = 0; i < size; i += 1) fork();
  return true;
}
