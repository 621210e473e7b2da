import http from 'node:http';
import { describe, expect, it } from '@jest/globals';
import { testMongoUri, uniqueDbName, uriWithDb } from '../helpers/db';
import { startServer, waitForLog } from '../helpers/server-process';

interface Outcome {
  status: number;
  body: string;
}

/**
 * A request whose body is still arriving. `accepted` resolves when the service has read its headers (it
 * answers `Expect: 100-continue`), so the request is provably in the service's hands, not in the kernel's
 * listen backlog; it stays in flight until `finish()`.
 */
function slowRequest(port: number) {
  const body = JSON.stringify({ refresh_token: 'an-unknown-refresh-token' });
  let finish = () => {};
  let markAccepted = () => {};
  const accepted = new Promise<void>((resolve) => (markAccepted = resolve));
  const done = new Promise<Outcome>((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/auth/refresh',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue' },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.on('continue', () => {
      req.write(body.slice(0, 10));
      markAccepted();
    });
    req.flushHeaders();
    finish = () => req.end(body.slice(10));
  });
  return { done, accepted, finish: () => finish() };
}

function connect(port: number): Promise<string> {
  return new Promise((resolve) => {
    http
      .get({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => {
        res.resume();
        resolve('connected');
      })
      .on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe('SIGTERM with requests in flight', () => {
  it('completes every accepted request, refuses new connections, and exits 0 within the grace period', async () => {
    const server = await startServer({
      MONGODB_URI: uriWithDb(testMongoUri(), uniqueDbName('sigterm')),
      // Generous, so a loaded machine cannot run out of it; whether the grace period was needed in full is
      // read from the service's own log below, not from the wall clock.
      SHUTDOWN_TIMEOUT_MS: '30000',
      RATE_LIMIT_ENABLED: 'false',
    });
    const inFlight = Array.from({ length: 40 }, () => slowRequest(server.port));
    await Promise.all(inFlight.map((request) => request.accepted));

    const signalledAt = Date.now();
    server.child.kill('SIGTERM');
    await waitForLog(server, (line) => typeof line.msg === 'string' && line.msg.startsWith('shutting down'));
    expect(await connect(server.port)).toBe('ECONNREFUSED');

    for (const request of inFlight) request.finish();
    const outcomes = await Promise.all(inFlight.map((request) => request.done));
    const { code } = await server.exited;
    const exitMs = Date.now() - signalledAt;

    // Every accepted request got its real answer (an unknown refresh token is a 401), none was cut off.
    expect(outcomes.map((o) => o.status)).toEqual(inFlight.map(() => 401));
    expect(outcomes.every((o) => JSON.parse(o.body).code === 'INVALID_REFRESH_TOKEN')).toBe(true);
    expect(code).toBe(0);
    // Nothing had to be cut off when the grace period ran out: the in-flight requests ended on their own.
    expect(server.output()).not.toContain('grace period over');
    expect(server.output()).toContain('"msg":"stopped"');
    process.stdout.write(
      `\n[faults] SIGTERM: ${outcomes.length}/${inFlight.length} in-flight requests completed, 0 lost; exit 0 after ${exitMs} ms\n`,
    );
  }, 60_000);
});
