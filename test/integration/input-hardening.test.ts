import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { Customer } from '../../src/models/customer.model';
import { buildTestApp } from '../helpers/app';
import { createActors, uniqueEmail, type Actors } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';
import { buildCustomer } from '../factories/customer';

// Hostile or careless input, class by class: always a 4xx from validation (or a clean success), never a 500,
// never a crash, never a half-written record.

useTestDatabase();
const app = buildTestApp();
let actors: Actors;
beforeAll(async () => {
  actors = await createActors(app);
});

describe('extremely long strings', () => {
  it('refuses a 100 kB name with 400 and writes nothing', async () => {
    const input = buildCustomer({ name: 'x'.repeat(100_000) });
    const res = await request(app).post('/customers').set(actors.admin.headers).send(input);
    expect(res.status).toBe(400);
    expect(res.body.details).toEqual([expect.objectContaining({ field: 'name' })]);
    expect(await Customer.countDocuments({ email: input.email })).toBe(0);
  });

  it('refuses a 100 kB query value with 400', async () => {
    const res = await request(app)
      .get(`/customers?q=${'a'.repeat(100_000)}`)
      .set(actors.admin.headers);
    expect([400, 414, 431]).toContain(res.status);
  });
});

describe('deeply nested JSON', () => {
  it('answers 400 for 100 000 levels of arrays', async () => {
    const body = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const res = await request(app).post('/customers').set(actors.admin.headers).set('Content-Type', 'application/json').send(body);
    expect(res.status).toBe(400);
  });

  it('answers 400 for a deeply nested object under a known field', async () => {
    const depth = 5000;
    const nested = `${'{"city":'.repeat(depth)}"x"${'}'.repeat(depth)}`;
    const body = JSON.stringify(buildCustomer()).replace(/}$/, `,"address":${nested}}`);
    const res = await request(app).post('/customers').set(actors.admin.headers).set('Content-Type', 'application/json').send(body);
    expect(res.status).toBe(400);
  });
});

describe('unicode edge cases', () => {
  it.each([
    ['a NUL byte', 'Nul\u0000Name'],
    ['right-to-left and zero-width characters', '\u202eevil\u200b name'],
    ['emoji', 'Ada 👩‍💻 Lovelace'],
  ])('stores %s in a name exactly as sent', async (_label, name) => {
    const input = buildCustomer({ name });
    const res = await request(app).post('/customers').set(actors.admin.headers).send(input);
    expect(res.status).toBe(201);
    expect(res.body.name).toBe(name);
    expect((await Customer.findById(res.body.id).lean())?.name).toBe(name);
    expect((await request(app).get(`/customers/${res.body.id}`).set(actors.admin.headers)).body.name).toBe(name);
  });

  it('refuses a lone surrogate (valid JSON, but no Unicode text) with 400 and writes nothing', async () => {
    // Stored, it would silently turn into U+FFFD: the record would not hold what the client sent.
    for (const input of [buildCustomer({ name: 'Zoë \ud800 Smith' }), { ...buildCustomer(), ['tag\udc00']: 'x' }]) {
      const res = await request(app).post('/customers').set(actors.admin.headers).send(input);
      expect({ status: res.status, body: res.body }).toEqual({
        status: 400,
        body: { error: 'Request body holds a string that is not valid Unicode (a lone surrogate)', code: 'BAD_REQUEST', details: [] },
      });
      expect(await Customer.countDocuments({ email: input.email })).toBe(0);
    }
  });

  it('refuses an e-mail with non-ASCII look-alike characters (400)', async () => {
    const res = await request(app)
      .post('/customers')
      .set(actors.admin.headers)
      .send(buildCustomer({ email: 'аdmin@example.com' }));
    expect(res.status).toBe(400);
  });

  it('refuses invalid UTF-8 in a JSON body with a 400 JSON error and writes nothing', async () => {
    // Raw bytes over a real socket: supertest would JSON-encode a Buffer sent as application/json.
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const post = async (name: Buffer, email: string) => {
      const body = Buffer.concat([Buffer.from('{"name":"'), name, Buffer.from(`","email":"${email}"}`)]);
      const res = await fetch(`http://127.0.0.1:${port}/customers`, {
        method: 'POST',
        headers: { ...actors.admin.headers, 'content-type': 'application/json' },
        body,
      });
      return { status: res.status, body: await res.json() };
    };
    try {
      // The same body with a valid UTF-8 name is accepted, so the refusals below are for the bytes alone.
      const valid = uniqueEmail('utf8-valid');
      expect(await post(Buffer.from('Zoë'), valid)).toMatchObject({ status: 201, body: { name: 'Zoë', email: valid } });

      const invalid = uniqueEmail('utf8-invalid');
      for (const bytes of [[0xff, 0xfe], [0xc3], [0xed, 0xa0, 0x80]]) {
        expect({ bytes, ...(await post(Buffer.concat([Buffer.from('Zo'), Buffer.from(bytes)]), invalid)) }).toEqual({
          bytes,
          status: 400,
          body: { error: 'Request body is not valid UTF-8', code: 'BAD_REQUEST', details: [] },
        });
      }
      expect(await Customer.countDocuments({ email: invalid })).toBe(0);
    } finally {
      server.close();
    }
  });
});

describe('paging out of range', () => {
  it.each([['limit=1000000'], ['limit=-1'], ['limit=1.5'], ['page=1e9'], ['page=-3'], ['page=NaN'], ['limit=0x10']])(
    'answers 400 for %s',
    async (query) => {
      const res = await request(app).get(`/customers?${query}`).set(actors.admin.headers);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_ERROR');
    },
  );
});

describe('wrong shapes', () => {
  it.each([
    ['an array for a string', { name: ['a', 'b'] }],
    ['an object for a string', { name: { first: 'a' } }],
    ['a number for a string', { name: 42 }],
    ['a string for an array', { tags: 'vip' }],
    ['null for a required field', { name: null }],
    ['a boolean for an enum', { status: true }],
  ])('answers 400 for %s', async (_label, override) => {
    const res = await request(app)
      .post('/customers')
      .set(actors.admin.headers)
      .send({ ...buildCustomer(), ...override });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_ERROR');
  });

  it('answers 400 for a JSON array or scalar where an object is expected', async () => {
    for (const body of ['[1,2,3]', '"just a string"', '42', 'null']) {
      const res = await request(app).post('/customers').set(actors.admin.headers).set('Content-Type', 'application/json').send(body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
    }
  });
});

describe('duplicate query parameters', () => {
  it.each([['status=lead&status=active'], ['q=a&q=b'], ['sort=name&sort=-name'], ['page=1&page=2']])(
    'answers 400 for %s',
    async (query) => {
      const res = await request(app).get(`/customers?${query}`).set(actors.admin.headers);
      expect(res.status).toBe(400);
    },
  );

  it('answers 400 for bracket syntax that other parsers turn into objects', async () => {
    const res = await request(app).get('/customers?status[$ne]=lead').set(actors.admin.headers);
    expect(res.status).toBe(400);
  });
});

describe('headers', () => {
  it('answers 401 for an absurdly long token', async () => {
    const res = await request(app).get('/me').set('token', 'a'.repeat(8000));
    expect(res.status).toBe(401);
  });
});
