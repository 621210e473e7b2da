import http from 'node:http';
import { describe, expect, it } from '@jest/globals';
import { testMongoUri, uniqueDbName, uriWithDb } from '../helpers/db';
import { closedPort, spawnServer, startServer, unobtainableEmbeddedMongo, waitForLog } from '../helpers/server-process';

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('the server process', () => {
  it('refuses to start with a bad setting, naming the variable', async () => {
    const server = spawnServer({ PORT: 'eighty', MONGODB_URI: testMongoUri() });
    const { code } = await server.exited;
    expect(code).toBe(1);
    expect(server.output()).toMatch(/Invalid configuration:\n\s+PORT: /);
  });

  it('refuses to start in production without a strong JWT_SECRET', async () => {
    const server = spawnServer({ NODE_ENV: 'production', JWT_SECRET: 'short', MONGODB_URI: testMongoUri() });
    expect((await server.exited).code).toBe(1);
    expect(server.output()).toContain('JWT_SECRET: production needs a secret of at least 32 characters');
  });

  it('says first what failed and the two ways out when there is no MONGODB_URI and the embedded MongoDB cannot start', async () => {
    // A closed port as the download URL and an empty cache: the embedded binary is unobtainable, as offline.
    const server = spawnServer({ MONGODB_URI: undefined, ...unobtainableEmbeddedMongo(await closedPort()) });
    const { code } = await server.exited;
    expect(code).toBe(1);
    const lines = server.output().split('\n');
    const first = lines.findIndex((line) => line.startsWith('The embedded MongoDB could not start: '));
    expect(first).toBeGreaterThan(-1);
    expect(lines[first]).toContain('ECONNREFUSED');
    // Before it, only the start-up warnings (JSON, below error level); no library warning, no stack anywhere.
    for (const line of lines.slice(0, first).filter(Boolean)) expect(JSON.parse(line)).toMatchObject({ level: 40 });
    expect(server.output()).not.toMatch(/^\s+at /m);
    expect(server.output()).not.toContain('Starting the MongoMemoryServer Instance failed');
    const advice = lines.slice(first, first + 5).join('\n');
    expect(advice).toContain('MONGODB_URI=mongodb://127.0.0.1:27017/crm npm start');
    expect(advice).toContain('MONGOMS_SYSTEM_BINARY=/path/to/mongod npm start');
    // Then one JSON line for log collectors, with the reason and no stack.
    const fatal = lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(fatal.at(-1)).toMatchObject({ level: 60, msg: 'embedded MongoDB could not start (MONGODB_URI is not set)' });
    expect(fatal.at(-1)).not.toHaveProperty('err');
  }, 60_000);

  it('creates the ADMIN named by ADMIN_EMAIL / ADMIN_PASSWORD at start, which closes open sign-up', async () => {
    const server = await startServer({
      MONGODB_URI: uriWithDb(testMongoUri(), uniqueDbName('admin')),
      ADMIN_EMAIL: 'Boss@Example.com',
      ADMIN_PASSWORD: 'a long admin password',
    });
    await waitForLog(server, (line) => line.msg === 'created the configured ADMIN account');
    const base = `http://127.0.0.1:${server.port}`;
    const signin = await fetch(`${base}/user/signin`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'boss@example.com', password: 'a long admin password' }),
    });
    expect(signin.status).toBe(200);
    expect(((await signin.json()) as { user: { role: string } }).user.role).toBe('ADMIN');
    const openSignup = await fetch(`${base}/user/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Intruder', email: 'intruder@example.com', password: 'whatever123' }),
    });
    expect(openSignup.status).toBe(401);
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  });

  it('gives a client REQUEST_TIMEOUT_MS to send a whole request, then answers 408', async () => {
    const server = await startServer({ MONGODB_URI: uriWithDb(testMongoUri(), uniqueDbName('reqtimeout')), REQUEST_TIMEOUT_MS: '3000' });
    // A JSON body trickling in one byte every 200 ms, for `ms` in all, to a route that reads the whole body.
    const trickle = (ms: number) =>
      new Promise<{ status: number; elapsed: number }>((resolve) => {
        const started = Date.now();
        const size = Math.ceil(ms / 200);
        const req = http.request(
          {
            host: '127.0.0.1',
            port: server.port,
            method: 'POST',
            path: '/auth/logout',
            agent: false,
            headers: { 'content-type': 'application/json', 'content-length': String(size) },
          },
          (res) => {
            res.resume();
            resolve({ status: res.statusCode ?? 0, elapsed: Date.now() - started });
          },
        );
        req.on('error', () => resolve({ status: 0, elapsed: Date.now() - started })); // a resolved promise ignores it
        let sent = 0;
        const timer = setInterval(() => {
          if (req.destroyed || sent === size) return clearInterval(timer);
          req.write('x');
          sent += 1;
          if (sent === size) req.end();
        }, 200);
      });
    const [quick, slow] = await Promise.all([trickle(1000), trickle(8000)]);
    expect(quick.status).toBe(400); // received in full within the limit, then refused as malformed JSON
    // 408 before the body was complete (at 8 s it would have been a 400 like the quick one), and not before
    // the allowance ran out. How late after it depends on Node's check interval and the machine's load: printed.
    expect(slow.status).toBe(408);
    expect(slow.elapsed).toBeGreaterThanOrEqual(3000);
    process.stdout.write(`\n[server] REQUEST_TIMEOUT_MS=3000: 408 after ${slow.elapsed} ms\n`);
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  });

  it('finishes an in-flight request on SIGTERM, refuses new connections, and exits 0', async () => {
    const server = await startServer({ MONGODB_URI: uriWithDb(testMongoUri(), uniqueDbName('shutdown')), SHUTDOWN_TIMEOUT_MS: '20000' });
    expect((await get(server.port, '/healthz')).status).toBe(200);

    // A request whose body is still arriving when the signal comes. `Expect: 100-continue` tells when the
    // service has read its headers, so it is in the service's hands (not the kernel's backlog) before the
    // signal; the rest of the body follows only once the service says it is shutting down.
    let accepted = () => {};
    const inService = new Promise<void>((resolve) => (accepted = resolve));
    let finish = () => {};
    const inFlight = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: server.port,
          method: 'POST',
          path: '/no-such-route',
          agent: false,
          headers: { 'content-type': 'application/json', 'content-length': '12', expect: '100-continue' },
        },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.on('continue', () => {
        req.write('{"name":');
        accepted();
      });
      req.flushHeaders();
      finish = () => req.end('"x"}');
    });

    await inService;
    server.child.kill('SIGTERM');
    await waitForLog(server, (line) => typeof line.msg === 'string' && line.msg.startsWith('shutting down'));
    await expect(get(server.port, '/healthz')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    finish();
    const response = await inFlight;
    expect(response.status).toBe(404);
    expect(JSON.parse(response.body)).toMatchObject({ code: 'NOT_FOUND' });
    const { code } = await server.exited;
    expect(code).toBe(0);
    expect(server.output()).not.toContain('grace period over');
    // Closing the database on purpose is not an outage.
    expect(server.output()).not.toContain('database connection lost');
    expect(server.output()).toContain('"msg":"stopped"');
  });
});
