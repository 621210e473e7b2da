import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { engineCapabilities } from '../../src/database/capabilities';
import { sweepExpired } from '../../src/database/connect';
import { Customer } from '../../src/models/customer.model';
import { IdempotencyKey } from '../../src/models/idempotency-key.model';
import { ImportJob } from '../../src/models/import-job.model';
import { buildTestApp } from '../helpers/app';
import { createActors, type Actors } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';
import { buildCustomer, insertCustomer } from '../factories/customer';

// Idempotency-Key on POST and PATCH (IETF httpapi draft; SPEC §8), through HTTP: a retry replays the first
// answer and changes nothing; a different request with the key is 422; one still running is 409.

useTestDatabase();
const app = buildTestApp();
let actors: Actors;
let server: http.Server;
let port: number;

beforeAll(async () => {
  actors = await createActors(app);
  server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const uniqueKey = (label: string) => `${label}-${Math.random().toString(36).slice(2)}`;

describe('POST with Idempotency-Key', () => {
  it('replays the first answer to the same request, with Idempotent-Replayed, creating nothing more', async () => {
    const key = uniqueKey('create');
    const body = buildCustomer({ company: 'IDEMCO' });
    const first = await request(app).post('/customers').set(actors.user.headers).set('Idempotency-Key', key).send(body);
    expect(first.status).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const again = await request(app).post('/customers').set(actors.user.headers).set('Idempotency-Key', key).send(body);
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers['content-type']).toMatch(/^application\/json/);
    expect(again.body).toEqual(first.body);
    expect(await Customer.countDocuments({ email: body.email })).toBe(1);
  });

  it('takes the key as a structured-field string too ("…" is the same key)', async () => {
    const key = uniqueKey('quoted');
    const body = buildCustomer();
    const first = await request(app).post('/customers').set(actors.user.headers).set('Idempotency-Key', key).send(body);
    const quoted = await request(app).post('/customers').set(actors.user.headers).set('Idempotency-Key', `"${key}"`).send(body);
    expect(quoted.status).toBe(201);
    expect(quoted.headers['idempotent-replayed']).toBe('true');
    expect(quoted.body.id).toBe(first.body.id);
  });

  it('answers 422 for the same key with another body or path, and changes nothing', async () => {
    const key = uniqueKey('mismatch');
    const body = buildCustomer();
    expect((await request(app).post('/customers').set(actors.user.headers).set('Idempotency-Key', key).send(body)).status).toBe(201);
    const before = await Customer.countDocuments();
    const otherBody = await request(app).post('/customers').set(actors.user.headers).set('Idempotency-Key', key).send(buildCustomer());
    expect(otherBody.status).toBe(422);
    expect(otherBody.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const customer = await insertCustomer();
    const otherPath = await request(app)
      .patch(`/customers/${customer.id}`)
      .set(actors.user.headers)
      .set('Idempotency-Key', key)
      .send({ company: 'CHANGED' });
    expect(otherPath.status).toBe(422);
    expect(await Customer.countDocuments()).toBe(before + 1);
    expect((await Customer.findById(customer.id).lean())?.company).toBe('TATA');
  });

  it('keeps keys per caller: another user’s same key is a new request', async () => {
    const key = uniqueKey('per-principal');
    const mine = await request(app).post('/customers').set(actors.user.headers).set('Idempotency-Key', key).send(buildCustomer());
    const theirs = await request(app).post('/customers').set(actors.otherUser.headers).set('Idempotency-Key', key).send(buildCustomer());
    expect([mine.status, theirs.status]).toEqual([201, 201]);
    expect(theirs.headers['idempotent-replayed']).toBeUndefined();
    expect(theirs.body.id).not.toBe(mine.body.id);
  });

  it('keeps an API key’s answers to itself: its retries replay, its owner’s token with the same key runs anew', async () => {
    const created = await request(app)
      .post('/api-keys')
      .set(actors.user.headers)
      .send({ name: 'retrying script', scopes: ['customers:read', 'customers:write'] });
    const apiKey: string = created.body.key;
    const key = uniqueKey('api-key');
    const body = buildCustomer();
    const first = await request(app).post('/customers').set('X-API-Key', apiKey).set('Idempotency-Key', key).send(body);
    const retry = await request(app).post('/customers').set('X-API-Key', apiKey).set('Idempotency-Key', key).send(body);
    expect([first.status, retry.status]).toEqual([201, 201]);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    const viaToken = await request(app).post('/customers').set(actors.user.headers).set('Idempotency-Key', key).send(body);
    expect(viaToken.headers['idempotent-replayed']).toBeUndefined();
    expect(viaToken.status).toBe(409);
    expect(viaToken.body.code).toBe('DUPLICATE');
  });

  it('creates exactly one customer out of 10 parallel requests with one key', async () => {
    const key = uniqueKey('parallel');
    const body = buildCustomer({ company: 'RACECO' });
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => request(app).post('/customers').set(actors.user.headers).set('Idempotency-Key', key).send(body)),
    );
    const statusList = responses.map((r) => r.status);
    expect(statusList.every((s) => s === 201 || s === 409)).toBe(true);
    const executed = responses.filter((r) => r.status === 201 && r.headers['idempotent-replayed'] === undefined);
    expect(executed).toHaveLength(1);
    for (const r of responses.filter((x) => x.status === 409)) {
      expect(r.headers['retry-after']).toBe('1');
      expect(r.body.code).toBe('IDEMPOTENCY_KEY_IN_USE');
    }
    for (const r of responses.filter((x) => x.status === 201)) expect(r.body.id).toBe(executed[0]?.body.id);
    expect(await Customer.countDocuments({ email: body.email })).toBe(1);
    // Once the first has answered, a retry replays it.
    const later = await request(app).post('/customers').set(actors.user.headers).set('Idempotency-Key', key).send(body);
    expect(later.headers['idempotent-replayed']).toBe('true');
  });

  it('stores 4xx answers of the route too (a duplicate stays a duplicate on retry)', async () => {
    const existing = await insertCustomer();
    const key = uniqueKey('dup');
    const body = buildCustomer({ email: existing.email });
    const first = await request(app).post('/customers').set(actors.user.headers).set('Idempotency-Key', key).send(body);
    expect(first.status).toBe(409);
    const again = await request(app).post('/customers').set(actors.user.headers).set('Idempotency-Key', key).send(body);
    expect(again.status).toBe(409);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
  });

  it('refuses a key that is empty, longer than 255 characters or not printable ASCII (400)', async () => {
    const before = await Customer.countDocuments();
    for (const bad of ['""', 'x'.repeat(256), 'caf\u00e9']) {
      const res = await request(app).post('/customers').set(actors.user.headers).set('Idempotency-Key', bad).send(buildCustomer());
      expect({ bad: bad.slice(0, 10), status: res.status }).toEqual({ bad: bad.slice(0, 10), status: 400 });
      expect(res.body.details).toEqual([{ location: 'header', field: 'Idempotency-Key', message: expect.any(String) }]);
    }
    const longest = await request(app)
      .post('/customers')
      .set(actors.user.headers)
      .set('Idempotency-Key', 'k'.repeat(255))
      .send(buildCustomer());
    expect(longest.status).toBe(201);
    expect(await Customer.countDocuments()).toBe(before + 1);
  });

  it('takes over a key whose first request died (its lease ran out) instead of blocking it for 24 h', async () => {
    const key = uniqueKey('dead');
    const body = buildCustomer();
    const id = `user:${actors.user.id}:${createHash('sha256').update(key).digest('hex')}`;
    // What a process killed mid-request leaves: a running claim nobody renews.
    const requestHash = createHash('sha256').update('POST /customers').digest('hex');
    await IdempotencyKey.create({
      _id: id,
      token: 'dead-holder',
      request_hash: requestHash,
      body_hash: null,
      state: 'running',
      lease_until: new Date(Date.now() + 60_000),
      expires_at: new Date(Date.now() + 86_400_000),
    });
    const blocked = await request(app).post('/customers').set(actors.user.headers).set('Idempotency-Key', key).send(body);
    expect(blocked.status).toBe(409);
    await IdempotencyKey.updateOne({ _id: id }, { $set: { lease_until: new Date(Date.now() - 1) } });
    const retried = await request(app).post('/customers').set(actors.user.headers).set('Idempotency-Key', key).send(body);
    expect(retried.status).toBe(201);
    expect(await Customer.countDocuments({ email: body.email })).toBe(1);
    const replay = await request(app).post('/customers').set(actors.user.headers).set('Idempotency-Key', key).send(body);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body.id).toBe(retried.body.id);
  });

  it('forgets a key after its 24 h: an expired record counts as absent, and the server (TTL) or the sweeper removes it', async () => {
    const key = uniqueKey('expired');
    const body = buildCustomer();
    const first = await request(app).post('/customers').set(actors.user.headers).set('Idempotency-Key', key).send(body);
    const id = `user:${actors.user.id}:${createHash('sha256').update(key).digest('hex')}`;
    await IdempotencyKey.updateOne({ _id: id }, { $set: { expires_at: new Date(Date.now() - 1000) } });
    const other = buildCustomer();
    const anew = await request(app).post('/customers').set(actors.user.headers).set('Idempotency-Key', key).send(other);
    expect(anew.status).toBe(201);
    expect(anew.body.id).not.toBe(first.body.id);
    await IdempotencyKey.updateOne({ _id: id }, { $set: { expires_at: new Date(Date.now() - 1000) } });
    if (engineCapabilities().ttlIndexes) {
      const indexes = await IdempotencyKey.collection.indexes();
      expect(indexes.find((index) => index.key.expires_at === 1)?.expireAfterSeconds).toBe(0);
    } else {
      await sweepExpired();
      expect(await IdempotencyKey.exists({ _id: id })).toBeNull();
    }
  });

  it('ignores the header where the answer holds a secret (POST /api-keys): nothing is stored', async () => {
    const key = uniqueKey('secret');
    const send = () =>
      request(app)
        .post('/api-keys')
        .set(actors.user.headers)
        .set('Idempotency-Key', key)
        .send({ name: 'k', scopes: ['customers:read'] });
    const records = await IdempotencyKey.countDocuments();
    const [a, b] = [await send(), await send()];
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(b.headers['idempotent-replayed']).toBeUndefined();
    expect(b.body.id).not.toBe(a.body.id);
    expect(await IdempotencyKey.countDocuments()).toBe(records);
    expect(JSON.stringify(await IdempotencyKey.find().lean())).not.toContain(a.body.key);
  });
});

describe('PATCH with Idempotency-Key', () => {
  it('replays the update without writing again', async () => {
    const customer = await insertCustomer();
    const key = uniqueKey('patch');
    const first = await request(app)
      .patch(`/customers/${customer.id}`)
      .set(actors.user.headers)
      .set('Idempotency-Key', key)
      .send({ company: 'PATCHED' });
    expect(first.status).toBe(200);
    const afterFirst = await Customer.findById(customer.id).lean();
    await Customer.updateOne({ _id: customer.id }, { $set: { company: 'MOVED ON' } }, { timestamps: false });
    const again = await request(app)
      .patch(`/customers/${customer.id}`)
      .set(actors.user.headers)
      .set('Idempotency-Key', key)
      .send({ company: 'PATCHED' });
    expect(again.status).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    const stored = await Customer.findById(customer.id).lean();
    expect(stored?.company).toBe('MOVED ON');
    expect(stored?.updated_at).toEqual(afterFirst?.updated_at);
  });
});

/** Starts a raw-CSV import and sends its first bytes, leaving the request open. */
function startImport(key: string, firstPart: string) {
  const req = http.request({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/import/customer_data',
    headers: { ...actors.manager.headers, 'Content-Type': 'text/csv', 'Idempotency-Key': key, 'Transfer-Encoding': 'chunked' },
  });
  const response = new Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
  });
  req.write(firstPart);
  return { req, response };
}

describe('imports with Idempotency-Key (streamed bodies)', () => {
  const csv = (emails: string[]) => `name,email\n${emails.map((e) => `Imported ${e.split('@')[0]},${e}`).join('\n')}\n`;

  it('answers 409 with Retry-After while the first upload is still running, then replays it for the same file', async () => {
    const key = uniqueKey('import');
    const file = csv([`a.${key}@example.com`, `b.${key}@example.com`]);
    const [head, tail] = [file.slice(0, 12), file.slice(12)];
    const first = startImport(key, head);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const during = await request(app)
      .post('/import/customer_data')
      .set(actors.manager.headers)
      .set('Idempotency-Key', key)
      .set('Content-Type', 'text/csv')
      .send(file);
    expect(during.status).toBe(409);
    expect(during.headers['retry-after']).toBe('1');
    first.req.end(tail);
    const done = await first.response;
    expect(done.status).toBe(200);
    expect(JSON.parse(done.body)).toMatchObject({ total: 2, inserted: 2 });
    const jobs = await ImportJob.countDocuments();
    const replay = await request(app)
      .post('/import/customer_data')
      .set(actors.manager.headers)
      .set('Idempotency-Key', key)
      .set('Content-Type', 'text/csv')
      .send(file);
    expect(replay.status).toBe(200);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.headers['x-import-job-id']).toBe(done.headers['x-import-job-id']);
    expect(replay.body).toEqual(JSON.parse(done.body));
    expect(await ImportJob.countDocuments()).toBe(jobs);
    const otherFile = await request(app)
      .post('/import/customer_data')
      .set(actors.manager.headers)
      .set('Idempotency-Key', key)
      .set('Content-Type', 'text/csv')
      .send(csv([`c.${key}@example.com`]));
    expect(otherFile.status).toBe(422);
    expect(await Customer.countDocuments({ email: `c.${key}@example.com` })).toBe(0);
  });

  it('frees the key when the first upload is cut off, so a retry runs', async () => {
    const key = uniqueKey('cut');
    const file = csv([`d.${key}@example.com`]);
    const first = startImport(key, file.slice(0, 8));
    first.response.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 300));
    first.req.destroy();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const retry = await request(app)
      .post('/import/customer_data')
      .set(actors.manager.headers)
      .set('Idempotency-Key', key)
      .set('Content-Type', 'text/csv')
      .send(file);
    expect(retry.status).toBe(200);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(await Customer.countDocuments({ email: `d.${key}@example.com` })).toBe(1);
  });
});
