import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { testMongoUri, uniqueDbName } from '../helpers/db';
import { startServer, waitForLog, type ServerProcess } from '../helpers/server-process';
import { TcpProxy } from '../helpers/tcp-proxy';

// The real service process, its database behind a TCP proxy that the test cuts under traffic and restores.

const proxy = TcpProxy.forUri(testMongoUri());
let server: ServerProcess;
let base: string;
let token: string;
let customerId: string;

// "Fast" below means without waiting for the database: the service's own limit is MONGODB_TIMEOUT_MS (500 ms
// by default) against the driver's 30 s default. The bound allows a loaded two-core machine ten times that;
// the measured figures are printed, not asserted.
const FAST_MS = 5000;

/** Polls `check` until it holds, or fails after `timeoutMs`. */
async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The service's log lines other than its access lines. */
function serviceLines(): { level: number; msg?: string; time: number }[] {
  return server
    .output()
    .split('\n')
    .filter((text) => text.startsWith('{'))
    .map((text) => JSON.parse(text) as { level: number; msg?: string; time: number })
    .filter((line) => line.msg !== 'request completed' && line.msg !== 'request errored');
}

async function call(path: string, init: RequestInit = {}) {
  const started = Date.now();
  const res = await fetch(`${base}${path}`, { ...init, headers: { 'content-type': 'application/json', token, ...init.headers } });
  const body = (await res.json()) as Record<string, unknown>;
  return { status: res.status, body, ms: Date.now() - started };
}

beforeAll(async () => {
  await proxy.start();
  server = await startServer({
    MONGODB_URI: `mongodb://127.0.0.1:${proxy.port}/${uniqueDbName('faults')}?directConnection=true`,
    ADMIN_EMAIL: 'ops@example.com',
    ADMIN_PASSWORD: 'operations password',
    RATE_LIMIT_ENABLED: 'false',
  });
  base = `http://127.0.0.1:${server.port}`;
  await waitForLog(server, (line) => line.msg === 'created the configured ADMIN account');
  const signin = await call('/user/signin', {
    method: 'POST',
    body: JSON.stringify({ email: 'ops@example.com', password: 'operations password' }),
  });
  token = String(signin.body.token);
  const created = await call('/customers', { method: 'POST', body: JSON.stringify({ name: 'Steady', email: 'steady@example.com' }) });
  customerId = String(created.body.id);
});

afterAll(async () => {
  if (server) {
    server.child.kill('SIGTERM');
    await server.exited;
  }
  await proxy.cut();
});

describe('the database stops under traffic', () => {
  it('answers 503 JSON fast, keeps /healthz up, and recovers without a restart', async () => {
    let running = true;
    const results: { at: number; status: number; ms: number; code?: unknown }[] = [];
    const traffic = Array.from({ length: 8 }, async () => {
      while (running) {
        const res = await call(`/customers/${customerId}`);
        results.push({ at: Date.now(), status: res.status, ms: res.ms, code: res.body.code });
      }
    });

    // Traffic flows before the cut...
    await until(() => results.filter((r) => r.status === 200).length >= 8, 15_000, 'answers before the cut');
    const cutAt = Date.now();
    await proxy.cut();
    // ...and enough requests sent after it have been answered to judge the outage by.
    const sentAfterCut = () => results.filter((r) => r.at - r.ms > cutAt);
    await until(() => sentAfterCut().length >= 24, 30_000, 'answers during the outage');

    const duringOutage = sentAfterCut();
    const wrong = duringOutage.filter((r) => r.status !== 503 || r.code !== 'DATABASE_UNAVAILABLE');
    // On failure, show what the service logged as errors.
    expect({
      wrong,
      errors: wrong.length
        ? server
            .output()
            .split('\n')
            .filter((l) => l.includes('"level":50'))
            .slice(0, 3)
        : [],
    }).toEqual({ wrong: [], errors: [] });
    const slowest = Math.max(...duringOutage.map((r) => r.ms));
    expect(slowest).toBeLessThan(FAST_MS);
    const first503 = results.find((r) => r.status === 503);
    const ready = await call('/readyz');
    expect(ready.status).toBe(503);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    const restoredAt = Date.now();
    await proxy.restore();
    let recoveredAt = 0;
    // Generous: on a loaded 2-core machine the driver's next heartbeat and FerretDB's reconnect can take a while.
    while (!recoveredAt && Date.now() - restoredAt < 45_000) {
      const last = results.at(-1);
      if (last && last.status === 200 && last.at > restoredAt) recoveredAt = last.at;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    running = false;
    await Promise.all(traffic);
    // On failure, show the last answers and what the service logged besides its access lines.
    expect({
      recovered: recoveredAt > 0,
      ...(recoveredAt ? {} : { lastAnswers: results.slice(-12).map((r) => ({ ...r, at: r.at - restoredAt })), log: serviceLines() }),
    }).toEqual({ recovered: true });
    // Operators see the outage in the log: one line when it starts, one when it ends.
    const logged = serviceLines().map((line) => line.msg);
    expect(logged.filter((msg) => msg?.startsWith('database connection lost'))).toHaveLength(1);
    expect(logged.filter((msg) => msg === 'database connection restored')).toHaveLength(1);
    expect((await call('/readyz')).status).toBe(200);
    expect(results.filter((r) => r.status >= 500 && r.status !== 503)).toEqual([]);
    expect(server.child.exitCode).toBeNull();

    process.stdout.write(
      `\n[faults] database stop: first 503 ${first503 ? first503.at - cutAt : -1} ms after the cut; ` +
        `slowest answer during the outage ${slowest} ms over ${duringOutage.length} requests; ` +
        `recovered ${recoveredAt - restoredAt} ms after the database returned\n`,
    );
  }, 120_000);
});
