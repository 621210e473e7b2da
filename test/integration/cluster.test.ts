import http from 'node:http';
import { describe, expect, it } from '@jest/globals';
import { testMongoUri, uniqueDbName, uriWithDb } from '../helpers/db';
import { spawnServer, waitForLog } from '../helpers/server-process';

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    // A new connection per request: the cluster hands connections to the workers in turn.
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject);
  });
}

function logLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((text) => text.startsWith('{'))
    .map((text) => JSON.parse(text) as Record<string, unknown>);
}

async function waitForWorkers(server: { output: () => string }, count: number, msg: string): Promise<Set<unknown>> {
  const deadline = Date.now() + 40_000;
  for (;;) {
    const pids = new Set(
      logLines(server.output())
        .filter((line) => line.msg === msg)
        .map((line) => line.pid),
    );
    if (pids.size >= count) return pids;
    if (Date.now() > deadline) throw new Error(`${count} workers did not log "${msg}"; output:\n${server.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('WEB_CONCURRENCY=2 (Node cluster)', () => {
  it('serves from two workers on one port, enforces one shared rate limit, and exits 0 on SIGTERM', async () => {
    const server = spawnServer({
      WEB_CONCURRENCY: '2',
      MONGODB_URI: uriWithDb(testMongoUri(), uniqueDbName('cluster')),
      RATE_LIMIT_STORE: 'mongo',
      RATE_LIMIT_MAX: '12',
      RATE_LIMIT_WINDOW_MS: '60000',
    });
    try {
      await waitForLog(server, (line) => line.msg === 'cluster primary: starting workers');
      const workers = await waitForWorkers(server, 2, 'ready');
      const listening = logLines(server.output()).filter((line) => line.msg === 'listening');
      const ports = new Set(listening.map((line) => line.port));
      expect(ports.size).toBe(1);
      const port = Number([...ports][0]);

      expect(await get(port, '/healthz')).toBe(200);
      // 20 counted requests (the limiter runs before authentication, so 401s count), one connection each.
      const statuses: number[] = [];
      for (let i = 0; i < 20; i += 1) statuses.push(await get(port, '/customers'));
      expect(statuses.filter((s) => s === 401)).toHaveLength(12);
      expect(statuses.filter((s) => s === 429)).toHaveLength(8);

      // Both workers answered some of them: the limit held across processes, not per process.
      const served = logLines(server.output()).filter(
        (line) => line.msg === 'request completed' && String((line.req as { url?: string })?.url) === '/customers',
      );
      const servedBy = new Set(served.map((line) => line.pid));
      expect(servedBy).toEqual(workers);

      server.child.kill('SIGTERM');
      const { code } = await server.exited;
      expect(code).toBe(0);
      expect(server.output()).toContain('all workers stopped');
    } finally {
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
    }
  }, 90_000);
});
