import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { createHttpServer } from '../../src/http-server';
import { Customer } from '../../src/models/customer.model';
import { buildTestApp, captureLogger } from '../helpers/app';
import { bootstrapAdmin, createStaff, type Actor } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';
import { rawExchange, requestHead, type RawExchange } from '../helpers/raw-http';

// Transport-level hardening (issue 15: items 4, 6, 7, 13), through a real HTTP server built as
// src/server.ts builds it, with a short body deadline and a small per-client cap.

useTestDatabase();
const BODY_TIMEOUT_MS = 1500;
const MAX_PENDING = 2;
const log = captureLogger();
const app = buildTestApp({ logger: log.logger, bodyDeadline: { timeoutMs: BODY_TIMEOUT_MS, maxPendingPerClient: MAX_PENDING } });
let server: Server;
let port: number;
let manager: Actor;

beforeAll(async () => {
  server = createHttpServer(app, log.logger);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : 0;
  manager = await createStaff(app, await bootstrapAdmin(app), 'MANAGER');
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Headers announcing a 100 000-byte JSON body, then only the first bytes of it. */
function stalledSignin(socket: Socket): void {
  socket.write(
    requestHead('POST /customer/signin HTTP/1.1', { Host: 'localhost', 'Content-Type': 'application/json', 'Content-Length': 100_000 }),
  );
  socket.write('{"email":');
}

function expectErrorBody(exchange: RawExchange | undefined, code: string): void {
  expect(exchange?.headers['content-type']).toMatch(/^application\/json/);
  expect(JSON.parse(exchange?.body ?? 'null')).toEqual({ error: expect.any(String), code, details: [] });
}

describe('a request body that does not arrive', () => {
  it('is answered 408 JSON and the connection closed once BODY_TIMEOUT_MS has passed', async () => {
    const exchange = await rawExchange(port, stalledSignin);
    expect(exchange).toMatchObject({ status: 408, closed: true });
    expectErrorBody(exchange, 'REQUEST_TIMEOUT');
    expect(exchange.headers.connection).toBe('close');
    expect(exchange.elapsed).toBeGreaterThanOrEqual(BODY_TIMEOUT_MS - 50);
    expect(exchange.elapsed).toBeLessThan(10_000); // before: no answer at all (REQUEST_TIMEOUT_MS, an hour)
  });

  it('counts against a per-client cap: one more unfinished body is refused with 429 at once', async () => {
    const first = await Promise.all(Array.from({ length: MAX_PENDING + 1 }, () => rawExchange(port, stalledSignin)));
    expect(first.map((exchange) => exchange.status).sort((a, b) => a - b)).toEqual([408, 408, 429]);
    const refused = first.find((exchange) => exchange.status === 429);
    expect(refused).toMatchObject({ closed: true, headers: expect.objectContaining({ 'retry-after': expect.any(String) }) });
    expectErrorBody(refused, 'RATE_LIMITED');
    // Those bodies are over: the client may open as many again.
    const again = await Promise.all(Array.from({ length: MAX_PENDING }, () => rawExchange(port, stalledSignin)));
    expect(again.map((exchange) => exchange.status)).toEqual([408, 408]);
  });

  it('does not count a body that arrived whole with its headers, however long the app takes to read it', async () => {
    // A shared rate-limit store makes every request wait for the database before its body is read.
    const wide = { windowMs: 60_000, limit: 10_000 };
    const slowApp = buildTestApp({
      rateLimit: { store: 'mongo', global: wide, auth: wide, data: wide },
      bodyDeadline: { timeoutMs: BODY_TIMEOUT_MS, maxPendingPerClient: MAX_PENDING },
    });
    const statuses = await Promise.all(
      Array.from({ length: 5 * MAX_PENDING }, async () => (await request(slowApp).post('/customers').send({ name: 'x' })).status),
    );
    expect(statuses).toEqual(Array.from({ length: 5 * MAX_PENDING }, () => 401));
  });

  it('cuts a body that keeps trickling in too: after an unauthenticated import is refused, its connection closes', async () => {
    let trickle: NodeJS.Timeout | undefined;
    const exchange = await rawExchange(port, (socket) => {
      socket.write(
        requestHead('POST /import/customer_data HTTP/1.1', { Host: 'localhost', 'Content-Type': 'text/csv', 'Content-Length': 100_000 }),
      );
      socket.write('name,email\n');
      // One byte every 200 ms: the connection is never idle.
      trickle = setInterval(() => socket.writable && socket.write('x'), 200);
    });
    clearInterval(trickle);
    expect(exchange).toMatchObject({ status: 401, closed: true });
    expect(exchange.elapsed).toBeLessThan(10_000);
  });

  it('leaves the import route its long allowance once the caller may import', async () => {
    const csv = 'name,email\nSlow Upload,slow.upload@import.test\n';
    const exchange = await rawExchange(port, (socket) => {
      const headers = {
        Host: 'localhost',
        token: manager.token,
        'Content-Type': 'text/csv',
        'Content-Length': Buffer.byteLength(csv),
        Connection: 'close',
      };
      socket.write(requestHead('POST /import/customer_data HTTP/1.1', headers));
      socket.write(csv.slice(0, 12));
      // The rest comes well after BODY_TIMEOUT_MS: a slow upload, not a stalled one.
      setTimeout(() => socket.writable && socket.write(csv.slice(12)), 2 * BODY_TIMEOUT_MS);
    });
    expect(exchange.status).toBe(200);
    expect(JSON.parse(exchange.body)).toMatchObject({ inserted: 1, failed: 0 });
    expect(exchange.elapsed).toBeGreaterThanOrEqual(2 * BODY_TIMEOUT_MS);
    expect(await Customer.countDocuments({ email: 'slow.upload@import.test' })).toBe(1);
  });
});

describe('bad input below the routes answers 400 JSON, not 500', () => {
  it.each(['gzip', 'deflate', 'br'])('a body that is not valid %s', async (encoding) => {
    const res = await request(app)
      .post('/customer/signin')
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', encoding)
      .send('{"email":"a@example.com"} is not compressed');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: expect.stringMatching(/decompress/), code: 'BAD_REQUEST', details: [] });
  });

  it('a form body that is not valid gzip, while a valid one is read', async () => {
    const bad = await request(app)
      .post('/customer/signin')
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .set('Content-Encoding', 'gzip')
      .send('email=x');
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('BAD_REQUEST');
    // Raw bytes on a socket: supertest would serialise a Buffer labelled JSON as a JSON object.
    const gzipped = zlib.gzipSync(JSON.stringify({ email: 'nobody@example.com', password: 'wrong password' }));
    const good = await rawExchange(port, (socket) => {
      const headers = {
        Host: 'localhost',
        'Content-Type': 'application/json',
        'Content-Encoding': 'gzip',
        'Content-Length': gzipped.length,
        Connection: 'close',
      };
      socket.write(Buffer.concat([Buffer.from(requestHead('POST /customer/signin HTTP/1.1', headers)), gzipped]));
    });
    expect(good.status).toBe(401); // decompressed, parsed, and the credentials checked
  });

  it.each(['/customers/%E0%A4%A', '/interactions/user/%E0%A4%A', '/users/%ZZ'])(
    'a path parameter with bad percent-encoding: %s',
    async (path) => {
      const res = await request(app).get(path);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'Malformed percent-encoding in the URL path', code: 'BAD_REQUEST', details: [] });
    },
  );
});

describe("Node's own refusals of a request it cannot parse", () => {
  it('answers a malformed header line with 400 JSON and closes', async () => {
    const exchange = await rawExchange(port, (socket) =>
      socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\nThis is no header\r\n\r\n'),
    );
    expect(exchange).toMatchObject({ status: 400, closed: true });
    expectErrorBody(exchange, 'BAD_REQUEST');
  });

  it('answers headers over the size limit with 431 JSON and closes', async () => {
    const exchange = await rawExchange(port, (socket) =>
      socket.write(requestHead('GET /healthz HTTP/1.1', { Host: 'localhost', 'X-Padding': 'a'.repeat(20_000) })),
    );
    expect(exchange).toMatchObject({ status: 431, closed: true });
    expectErrorBody(exchange, 'HEADERS_TOO_LARGE');
  });
});

describe('access log', () => {
  it('censors credential values in the query string and keeps the rest', async () => {
    const secrets = [
      'eyJhbGciOiJIUzI1NiJ9.query-token',
      'refresh-secret-1',
      'api-key-secret-2',
      'password-secret-3',
      'upper-case-4',
      'referer-secret-5',
    ];
    const query = `token=${secrets[0]}&limit=5&refresh_token=${secrets[1]}&api_key=${secrets[2]}&password=${secrets[3]}&TOKEN=${secrets[4]}`;
    const res = await request(app)
      .get(`/customers?${query}`)
      .set('X-Request-Id', 'redact-query-1')
      .set('Referer', `https://app.example.com/page?access_token=${secrets[5]}&tab=2`);
    expect(res.status).toBe(401);
    const lines = log.lines.filter((line) => JSON.stringify(line).includes('redact-query-1'));
    const completed = lines.find((line) => typeof line.req === 'object' && line.req !== null && 'url' in line.req);
    expect(completed?.req).toMatchObject({
      url: '/customers?token=[redacted]&limit=5&refresh_token=[redacted]&api_key=[redacted]&password=[redacted]&TOKEN=[redacted]',
      headers: expect.objectContaining({ referer: 'https://app.example.com/page?access_token=[redacted]&tab=2' }),
    });
    const text = JSON.stringify(log.lines);
    for (const secret of secrets) expect(text).not.toContain(secret);
  });
});

describe("the server's request and response objects", () => {
  it("are born with the app's prototypes, so Express never has to change them, and serve a whole request", async () => {
    const seen: boolean[] = [];
    const check = (req: IncomingMessage, res: ServerResponse) =>
      seen.push(Object.getPrototypeOf(req) === app.request && Object.getPrototypeOf(res) === app.response);
    // Runs before the app's own listener, so it sees the objects as Node made them.
    server.prependListener('request', check);
    try {
      const exchange = await rawExchange(port, (socket) =>
        socket.write(requestHead('GET /customers?limit=1 HTTP/1.1', { Host: 'localhost', token: manager.token, Connection: 'close' })),
      );
      expect(exchange.status).toBe(200);
      expect(exchange.headers['content-type']).toMatch(/^application\/json/);
      expect(JSON.parse(exchange.body)).toEqual(expect.any(Array));
    } finally {
      server.off('request', check);
    }
    expect(seen).toEqual([true]);
  });
});
