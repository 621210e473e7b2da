import { describe, expect, it } from '@jest/globals';
import express, { Router } from 'express';
import helmet from 'helmet';
import mongoose from 'mongoose';
import request from 'supertest';
import { z } from 'zod';
import { parsedBody, validate } from '../../src/middleware/validate';
import { requireDatabase } from '../../src/middleware/require-database';
import { buildTestApp, captureLogger } from '../helpers/app';
import { isFerretDb, useTestDatabase } from '../helpers/db';

// A small fixture router exercises the shared middleware (parsing, validation, errors) through HTTP
// against the real database, independently of any entity's routes.
const Probe = mongoose.model(
  'Probe',
  new mongoose.Schema({ name: String, email: { type: String, unique: true }, address: { city: String } }),
);
const createProbe = {
  body: z
    .object({
      name: z.string().trim().min(1),
      email: z.string().trim().toLowerCase().email(),
      address: z
        .object({ city: z.string().min(1) })
        .strict()
        .optional(),
    })
    .strict(),
};

const fixtures = Router();
fixtures.post('/probes', requireDatabase, validate(createProbe), async (_req, res) => {
  const probe = await Probe.create(parsedBody(res, createProbe));
  res.status(201).json({ id: probe.id, name: probe.name, email: probe.email, city: probe.address?.city });
});
fixtures.get('/probes/:id', requireDatabase, async (req, res) => {
  const probe = await Probe.findById(req.params.id).lean();
  res.json(probe);
});
fixtures.get('/explode', () => {
  throw new Error('connection string mongodb://admin:hunter2@db leaked');
});

useTestDatabase();
const app = buildTestApp({ extraRouters: [fixtures] });

function expectErrorBody(body: unknown, code: string) {
  expect(body).toEqual({ error: expect.any(String), code, details: expect.any(Array) });
}

describe('body parsing', () => {
  it('accepts application/json', async () => {
    const res = await request(app).post('/probes').send({ name: 'Ann', email: 'ann@example.com' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'Ann', email: 'ann@example.com' });
  });

  it('accepts a JSON body labelled multipart/form-data without a boundary (the original README curl)', async () => {
    const res = await request(app)
      .post('/probes')
      .set('Content-Type', 'multipart/form-data')
      .send('{\n  "Name": "ramlal",\n  "Email": "ram@gmail.com"\n}');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'ramlal', email: 'ram@gmail.com' });
    expect(await Probe.countDocuments({ email: 'ram@gmail.com' })).toBe(1);
  });

  it('accepts application/x-www-form-urlencoded fields', async () => {
    const res = await request(app).post('/probes').type('form').send('name=Bob&email=bob%40example.com');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'Bob', email: 'bob@example.com' });
  });

  it('reads JSON sent with curl -d and no Content-Type (labelled urlencoded)', async () => {
    const res = await request(app)
      .post('/probes')
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send('{"name":"Cy","email":"cy@example.com"}');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'Cy' });
  });

  it('accepts real multipart/form-data fields', async () => {
    const res = await request(app).post('/probes').field('Name', 'Dee').field('email', 'dee@example.com');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'Dee', email: 'dee@example.com' });
  });

  it('refuses a file upload outside the import route with 415', async () => {
    const res = await request(app).post('/probes').field('name', 'Eve').attach('file', Buffer.from('a,b\n1,2\n'), 'data.csv');
    expect(res.status).toBe(415);
    expectErrorBody(res.body, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('treats an empty multipart-labelled body as an empty object', async () => {
    const res = await request(app).post('/probes').set('Content-Type', 'multipart/form-data').send('');
    expect(res.status).toBe(400);
    expect(res.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['email', 'name']);
  });

  it('answers 400 for malformed JSON', async () => {
    const res = await request(app).post('/probes').set('Content-Type', 'application/json').send('{"name": ');
    expect(res.status).toBe(400);
    expectErrorBody(res.body, 'BAD_REQUEST');
  });

  it('answers 415 for an unsupported media type', async () => {
    const res = await request(app).post('/probes').set('Content-Type', 'application/xml').send('<a/>');
    expect(res.status).toBe(415);
    expectErrorBody(res.body, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers 413 beyond the JSON body limit', async () => {
    const small = buildTestApp({ extraRouters: [fixtures], bodyLimit: 1024 });
    const res = await request(small)
      .post('/probes')
      .send({ name: 'x'.repeat(2000), email: 'big@example.com' });
    expect(res.status).toBe(413);
    expectErrorBody(res.body, 'PAYLOAD_TOO_LARGE');
  });

  it('answers 413 for an oversized multipart body', async () => {
    const small = buildTestApp({ extraRouters: [fixtures], bodyLimit: 1024 });
    const res = await request(small).post('/probes').field('name', 'x'.repeat(4000)).field('email', 'm@example.com');
    expect(res.status).toBe(413);
  });
});

describe('validation', () => {
  it('matches request keys case-insensitively, nested objects included', async () => {
    const res = await request(app)
      .post('/probes')
      .send({ NAME: 'Fay', eMail: 'FAY@Example.com', Address: { CITY: 'Pune' } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'Fay', email: 'fay@example.com', city: 'Pune' });
  });

  it('answers 400 with one detail per bad field', async () => {
    const res = await request(app).post('/probes').send({ name: '', email: 'not-an-email', extra: 1 });
    expect(res.status).toBe(400);
    expectErrorBody(res.body, 'VALIDATION_ERROR');
    const fields = res.body.details.map((d: { field: string }) => d.field).sort();
    expect(fields).toEqual(['email', 'extra', 'name']);
    expect(res.body.details[0]).toEqual({ location: 'body', field: expect.any(String), message: expect.any(String) });
  });

  it('rejects operator injection where a string is expected', async () => {
    const res = await request(app)
      .post('/probes')
      .send({ name: 'Gus', Email: { $gt: '' } });
    expect(res.status).toBe(400);
    expect(res.body.details).toEqual([expect.objectContaining({ field: 'email' })]);
  });

  it('answers 400 for a malformed ObjectId', async () => {
    const res = await request(app).get('/probes/not-an-id');
    expect(res.status).toBe(400);
    expectErrorBody(res.body, 'BAD_REQUEST');
  });

  it('answers 409 for a duplicate key', async () => {
    await request(app).post('/probes').send({ name: 'Hal', email: 'hal@example.com' }).expect(201);
    const res = await request(app).post('/probes').send({ name: 'Hal 2', email: 'HAL@example.com' });
    expect(res.status).toBe(409);
    expectErrorBody(res.body, 'DUPLICATE');
    // MongoDB names the key in the error; FerretDB 1.x does not ("E11000 duplicate key error collection: db.coll"),
    // so there the conflict carries no detail. The engine is asked separately, not read off this response.
    const expected = (await isFerretDb()) ? [] : [{ field: 'email', message: 'email is already in use' }];
    expect(res.body.details).toEqual(expected);
    expect(await Probe.countDocuments({ email: 'hal@example.com' })).toBe(1);
  });
});

describe('errors and request ids', () => {
  it('answers 404 JSON for an unknown route', async () => {
    const res = await request(app).get('/no/such/route');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expectErrorBody(res.body, 'NOT_FOUND');
  });

  it('answers a generic 500 without internals, and logs the error with the request id', async () => {
    const { logger, lines } = captureLogger();
    const res = await request(buildTestApp({ logger, extraRouters: [fixtures] }))
      .get('/explode')
      .set('X-Request-Id', 'trace-500');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: 'Internal server error', code: 'INTERNAL_ERROR', details: [] });
    expect(JSON.stringify(res.body)).not.toMatch(/hunter2|stack|at /);
    const logged = lines.find((line) => line.msg === 'request failed');
    expect(logged).toMatchObject({ req: { id: 'trace-500' }, err: { message: expect.stringContaining('leaked') } });
  });

  it('generates a request id when none is sent', async () => {
    const res = await request(app).get('/healthz');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('passes a well-formed request id through and replaces an unsafe one', async () => {
    const kept = await request(app).get('/healthz').set('X-Request-Id', 'abc-123');
    expect(kept.headers['x-request-id']).toBe('abc-123');
    const replaced = await request(app).get('/healthz').set('X-Request-Id', 'bad id\twith spaces');
    expect(replaced.headers['x-request-id']).not.toBe('bad id\twith spaces');
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs requests as JSON with the request id, redacts credentials and leaves out headers of its own', async () => {
    const { logger, lines } = captureLogger();
    await request(buildTestApp({ logger, extraRouters: [fixtures] }))
      .post('/probes')
      .set('Authorization', 'Bearer secret-jwt')
      .set('token', 'secret-token')
      .set('X-API-Key', 'secret-api-key')
      .set('Cookie', 'session=secret-cookie')
      .set('Proxy-Authorization', 'Basic secret-proxy')
      .set('X-Auth-Token', 'secret-custom')
      .set('User-Agent', 'probe/1.0')
      .set('X-Request-Id', 'trace-log')
      .send({ name: 'Ivy', email: 'ivy@example.com', password: 'hunter2hunter2' });
    const line = lines.find((l) => l.msg === 'request completed' || l.msg === 'request errored');
    expect(line).toMatchObject({
      req: {
        id: 'trace-log',
        headers: {
          authorization: '[redacted]',
          token: '[redacted]',
          'x-api-key': '[redacted]',
          cookie: '[redacted]',
          'proxy-authorization': '[redacted]',
          'user-agent': 'probe/1.0',
          'x-request-id': 'trace-log',
        },
      },
    });
    const everything = JSON.stringify(lines);
    // A header of the client's own is left out, whatever it carries.
    expect(line?.req).not.toHaveProperty(['headers', 'x-auth-token']);
    for (const secret of ['secret-jwt', 'secret-token', 'secret-api-key', 'secret-cookie', 'secret-proxy', 'secret-custom'])
      expect(everything).not.toContain(secret);
    expect(everything).not.toContain('hunter2hunter2');
  });

  it('redacts password, token and refresh_token fields in any logged object', () => {
    const { logger, lines } = captureLogger();
    logger.info({ user: { password: 'p4ssw0rd!', refresh_token: 'r3fresh', token: 't0ken', name: 'ok' } }, 'x');
    expect(lines[0]).toMatchObject({ user: { password: '[redacted]', refresh_token: '[redacted]', token: '[redacted]', name: 'ok' } });
  });
});

describe('security headers, CORS and rate limiting', () => {
  it('sends helmet headers and no X-Powered-By', async () => {
    const res = await request(app).get('/healthz');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toBeDefined();
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('sends exactly the headers helmet sends itself (they are recorded once at start, not rebuilt per request)', async () => {
    const reference = express();
    // What helmet sends over plain HTTP, as supertest's requests arrive (TLS-only headers off).
    reference.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } }, strictTransportSecurity: false }));
    reference.get('/', (_req, res) => {
      res.end();
    });
    const expected = (await request(reference).get('/')).headers;
    const names = Object.keys(expected).filter((name) => !['date', 'connection', 'content-length', 'keep-alive'].includes(name));
    expect(names.length).toBeGreaterThanOrEqual(10);
    const got = (await request(app).get('/healthz')).headers;
    for (const name of names) expect([name, got[name]]).toEqual([name, expected[name]]);
    expect(got['x-powered-by']).toBeUndefined();
  });

  it('allows only configured CORS origins', async () => {
    const corsApp = buildTestApp({ corsOrigins: ['https://app.example.com'] });
    const allowed = await request(corsApp).get('/healthz').set('Origin', 'https://app.example.com');
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example.com');
    const denied = await request(corsApp).get('/healthz').set('Origin', 'https://evil.example.com');
    expect(denied.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('limits each client, with RateLimit headers and a 429 JSON carrying Retry-After', async () => {
    const limited = buildTestApp({ rateLimit: { global: { windowMs: 60_000, limit: 2 } }, extraRouters: [fixtures] });
    const first = await request(limited).get('/no/route');
    expect(first.headers['ratelimit-limit']).toBe('2');
    expect(first.headers['ratelimit-remaining']).toBe('1');
    await request(limited).get('/no/route');
    const third = await request(limited).get('/no/route');
    expect(third.status).toBe(429);
    expectErrorBody(third.body, 'RATE_LIMITED');
    expect(Number(third.headers['retry-after'])).toBeGreaterThan(0);
    // Health checks are never limited, so an orchestrator cannot be locked out.
    expect((await request(limited).get('/healthz')).status).toBe(200);
  });

  it('counts an IPv6 client by its /56 and every other client apart, request after request', async () => {
    const limited = buildTestApp({ trustProxy: 1, rateLimit: { global: { windowMs: 60_000, limit: 3 } }, extraRouters: [fixtures] });
    const from = (address: string) => request(limited).get('/no/route').set('X-Forwarded-For', address);
    const remaining = async (address: string) => (await from(address)).headers['ratelimit-remaining'];
    expect(await remaining('2001:db8:aa:1100::1')).toBe('2');
    // Another address of the same /56 shares the count; another /56, or an IPv4 client, has its own.
    expect(await remaining('2001:db8:aa:11ff::2')).toBe('1');
    expect(await remaining('2001:db8:aa:1200::1')).toBe('2');
    expect(await remaining('203.0.113.7')).toBe('2');
    expect(await remaining('203.0.113.8')).toBe('2');
    expect((await from('2001:db8:aa:1100::1')).status).toBe(404);
    expect((await from('2001:db8:aa:1100::3')).status).toBe(429);
    expect(await remaining('203.0.113.7')).toBe('1');
  });
});

describe('methods', () => {
  it('answers 405 with an Allow header for a known path and an undocumented method', async () => {
    const res = await request(app).put('/healthz');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
    expectErrorBody(res.body, 'METHOD_NOT_ALLOWED');
    const withParam = await request(app)
      .post(`/customers/${'a'.repeat(24)}`)
      .send({});
    expect(withParam.status).toBe(405);
    expect(withParam.headers.allow?.split(', ').sort()).toEqual(['DELETE', 'GET', 'HEAD', 'PATCH']);
  });

  it('matches paths in any case for the 405, as Express routes them', async () => {
    const res = await request(app)
      .post(`/CUSTOMERS/${'a'.repeat(24)}`)
      .send({});
    expect(res.status).toBe(405);
    expect(res.headers.allow?.split(', ').sort()).toEqual(['DELETE', 'GET', 'HEAD', 'PATCH']);
    expect((await request(app).put('/HealthZ')).headers.allow).toBe('GET, HEAD');
    expect((await request(app).get('/HealthZ')).status).toBe(200);
  });
});

describe('methods on overlapping paths', () => {
  it('answers 405 for PATCH /customers/tickets rather than reading "tickets" as a customer id', async () => {
    const res = await request(app).patch('/customers/tickets').send({});
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
    expect((await request(app).put('/users/meetings').send({})).status).toBe(405);
  });
});

describe('JSON responses (res.json answering in one write) and ETags', () => {
  // Each case runs on the API's app and on a bare Express app: the answers must not differ.
  const cases: Record<string, express.RequestHandler> = {
    plain: (_req, res) => {
      res.json({ name: 'Zoë 😀 Ünal', tags: ['a', 'b'], n: 1 });
    },
    created: (_req, res) => {
      res.status(201).location('/things/1').json({ id: '1' });
    },
    typed: (_req, res) => {
      res.type('application/problem+json').status(400).json({ title: 'bad' });
    },
    tagged: (_req, res) => {
      res.set('ETag', '"v7"').json({ id: '1' });
    },
    nothing: (_req, res) => {
      res.json(undefined);
    },
    noContent: (_req, res) => {
      res.status(204).json({ ignored: true });
    },
    // res.send with the app's ETag function (weakETag): the same tags as Express's own.
    text: (_req, res) => {
      res.send('plain text, ünïcödé');
    },
    buffer: (_req, res) => {
      res.send(Buffer.from([0, 1, 2, 250, 251]));
    },
    empty: (_req, res) => {
      res.send('');
    },
  };
  const router = Router();
  const reference = express();
  for (const [name, handler] of Object.entries(cases)) {
    router.all(`/json-cases/${name}`, handler);
    reference.all(`/json-cases/${name}`, handler);
  }
  const withCases = buildTestApp({ extraRouters: [router] });
  const view = (res: request.Response) => ({
    status: res.status,
    text: res.text,
    type: res.headers['content-type'],
    length: res.headers['content-length'],
    etag: res.headers.etag,
    location: res.headers.location,
  });

  it.each(Object.keys(cases))('answers %s as Express does, for GET, HEAD and POST', async (name) => {
    for (const method of ['get', 'head', 'post'] as const) {
      const expected = view(await request(reference)[method](`/json-cases/${name}`));
      expect([method, view(await request(withCases)[method](`/json-cases/${name}`))]).toEqual([method, expected]);
    }
  });

  it('counts Content-Length in bytes and answers a matching If-None-Match with 304 and no body', async () => {
    const first = await request(withCases).get('/json-cases/plain');
    expect(Number(first.headers['content-length'])).toBe(Buffer.byteLength(first.text));
    expect(Buffer.byteLength(first.text)).toBeGreaterThan(first.text.length);
    expect(first.headers.etag).toMatch(/^W\/"/);
    const again = await request(withCases).get('/json-cases/plain').set('If-None-Match', String(first.headers.etag));
    expect(again.status).toBe(304);
    expect(again.text).toBe('');
    expect(again.headers['content-type']).toBeUndefined();
    expect(view(again)).toEqual(view(await request(reference).get('/json-cases/plain').set('If-None-Match', String(first.headers.etag))));
    const changed = await request(withCases).get('/json-cases/plain').set('If-None-Match', 'W/"other"');
    expect(changed.status).toBe(200);
  });
});
