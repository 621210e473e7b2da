import { beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { ApiKey, ApiKeyUsage } from '../../src/models/api-key.model';
import { Customer } from '../../src/models/customer.model';
import { buildTestApp, captureLogger } from '../helpers/app';
import { createActors, createStaff, type Actor, type Actors } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';
import { buildCustomer, insertCustomer } from '../factories/customer';

// API keys (SPEC §8) through HTTP: created once with their secret, hashed at rest, acting as their owner
// within their scopes — never beyond what the owner holds now.

useTestDatabase();
const { logger, lines } = captureLogger();
const app = buildTestApp({ logger });
let actors: Actors;

beforeAll(async () => {
  actors = await createActors(app);
});

async function createKey(owner: Pick<Actor, 'headers'>, scopes: string[], extra: Record<string, unknown> = {}) {
  const res = await request(app)
    .post('/api-keys')
    .set(owner.headers)
    .send({ name: 'integration', scopes, ...extra });
  if (res.status !== 201) throw new Error(`key creation failed: ${res.status} ${res.text}`);
  return res.body as { id: string; key: string; prefix: string; scopes: string[] };
}

describe('POST /api-keys', () => {
  it('answers the key once, in crm_<prefix>_<secret> form, and stores only a keyed hash of it', async () => {
    const res = await request(app)
      .post('/api-keys')
      .set(actors.user.headers)
      .send({ name: 'billing sync', scopes: ['customers:read', 'customers:write'] });
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      id: expect.any(String),
      api_key_id: res.body.id,
      name: 'billing sync',
      prefix: expect.stringMatching(/^[0-9a-f]{12}$/),
      owner_id: actors.user.id,
      scopes: ['customers:read', 'customers:write'],
      expires_at: null,
      revoked_at: null,
      last_used_at: null,
      created_at: expect.any(String),
      updated_at: expect.any(String),
      key: expect.stringMatching(/^crm_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/),
    });
    expect(res.body.key.startsWith(`crm_${res.body.prefix}_`)).toBe(true);
    const stored = await ApiKey.findById(res.body.id).select('+secret_hash').lean();
    expect(stored?.secret_hash).toMatch(/^[0-9a-f]{64}$/);
    const secret = res.body.key.split('_').slice(2).join('_');
    expect(JSON.stringify(stored)).not.toContain(secret);
  });

  it('refuses scopes the owner does not hold (403 SCOPE_NOT_HELD), unknown scopes (400) and a past expiry (400)', async () => {
    const before = await ApiKey.countDocuments();
    const notHeld = await request(app)
      .post('/api-keys')
      .set(actors.user.headers)
      .send({ name: 'x', scopes: ['customers:read', 'customers:delete'] });
    expect(notHeld.status).toBe(403);
    expect(notHeld.body.code).toBe('SCOPE_NOT_HELD');
    expect(notHeld.body.details).toEqual([{ location: 'body', field: 'scopes', message: 'you do not hold customers:delete' }]);
    const unknown = await request(app)
      .post('/api-keys')
      .set(actors.user.headers)
      .send({ name: 'x', scopes: ['customers:everything'] });
    expect(unknown.status).toBe(400);
    const empty = await request(app).post('/api-keys').set(actors.user.headers).send({ name: 'x', scopes: [] });
    expect(empty.status).toBe(400);
    const past = await request(app)
      .post('/api-keys')
      .set(actors.user.headers)
      .send({ name: 'x', scopes: ['customers:read'], expires_at: '2020-01-01T00:00:00Z' });
    expect(past.status).toBe(400);
    expect(past.body.details).toEqual([{ location: 'body', field: 'expires_at', message: 'must be in the future' }]);
    expect(await ApiKey.countDocuments()).toBe(before);
  });

  it('refuses a request authenticated by an API key (keys are made by signed-in users)', async () => {
    const { key } = await createKey(actors.manager, ['api-keys:manage', 'customers:read']);
    const before = await ApiKey.countDocuments();
    const res = await request(app)
      .post('/api-keys')
      .set('X-API-Key', key)
      .send({ name: 'child', scopes: ['customers:read'] });
    expect(res.status).toBe(403);
    expect(await ApiKey.countDocuments()).toBe(before);
  });
});

describe('authenticating with an API key', () => {
  it('works as X-API-Key and as Authorization: Bearer, acting as the owner', async () => {
    const { key } = await createKey(actors.user, ['customers:read', 'customers:write']);
    const viaHeader = await request(app).get('/customers').set('X-API-Key', key);
    expect(viaHeader.status).toBe(200);
    const created = await request(app)
      .post('/customers')
      .set('Authorization', `Bearer ${key}`)
      .send(buildCustomer({ company: 'KEYCO' }));
    expect(created.status).toBe(201);
    const stored = await Customer.findById(created.body.id).lean();
    expect(stored?.owner?.toHexString()).toBe(actors.user.id);
  });

  it('is limited to its scopes: a read-only key cannot write, and /me lists only what it may do', async () => {
    const { key } = await createKey(actors.manager, ['customers:read']);
    const before = await Customer.countDocuments();
    const write = await request(app).post('/customers').set('X-API-Key', key).send(buildCustomer());
    expect(write.status).toBe(403);
    expect(await Customer.countDocuments()).toBe(before);
    const me = await request(app).get('/me').set('X-API-Key', key);
    expect(me.status).toBe(200);
    expect(me.body.permissions).toEqual(['customers:read']);
  });

  it('never exceeds its owner: demoting the owner takes the permission away at the next request', async () => {
    const manager = await createStaff(app, actors.admin, 'MANAGER', 'demoted');
    const { key } = await createKey(manager, ['customers:read', 'customers:delete']);
    const first = await insertCustomer();
    expect((await request(app).delete(`/customers/${first.id}`).set('X-API-Key', key)).status).toBe(200);
    const demote = await request(app).patch(`/users/${manager.id}`).set(actors.admin.headers).send({ role: 'USER' });
    expect(demote.status).toBe(200);
    const second = await insertCustomer();
    const refused = await request(app).delete(`/customers/${second.id}`).set('X-API-Key', key);
    expect(refused.status).toBe(403);
    expect(await Customer.exists({ _id: second.id })).not.toBeNull();
    // What both still allow keeps working.
    expect((await request(app).get('/customers').set('X-API-Key', key)).status).toBe(200);
  });

  it('stops working when the owner is deleted', async () => {
    const doomed = await createStaff(app, actors.admin, 'USER', 'doomed');
    const { key } = await createKey(doomed, ['customers:read']);
    expect((await request(app).get('/customers').set('X-API-Key', key)).status).toBe(200);
    expect((await request(app).delete(`/users/${doomed.id}`).set(actors.admin.headers)).status).toBe(200);
    const res = await request(app).get('/customers').set('X-API-Key', key);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('INVALID_API_KEY');
  });

  it('stops working at once when revoked', async () => {
    const { key, id } = await createKey(actors.user, ['customers:read']);
    expect((await request(app).get('/customers').set('X-API-Key', key)).status).toBe(200);
    const revoked = await request(app).delete(`/api-keys/${id}`).set(actors.user.headers);
    expect(revoked.status).toBe(200);
    expect(revoked.body.api_key.revoked_at).toEqual(expect.any(String));
    expect((await request(app).get('/customers').set('X-API-Key', key)).status).toBe(401);
    expect((await request(app).get('/customers').set('Authorization', `Bearer ${key}`)).status).toBe(401);
  });

  it('stops working when it expires', async () => {
    const { key } = await createKey(actors.user, ['customers:read'], { expires_at: new Date(Date.now() + 1500).toISOString() });
    expect((await request(app).get('/customers').set('X-API-Key', key)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1600));
    expect((await request(app).get('/customers').set('X-API-Key', key)).status).toBe(401);
  });

  it('answers 401 for a wrong secret with a real prefix, a malformed key, and an unknown prefix', async () => {
    const { key, prefix } = await createKey(actors.user, ['customers:read']);
    const wrongSecret = `crm_${prefix}_${'A'.repeat(43)}`;
    for (const candidate of [wrongSecret, 'crm_nothex', `crm_000000000000_${'B'.repeat(43)}`, `${key}x`]) {
      const res = await request(app).get('/customers').set('X-API-Key', candidate);
      expect({ candidate, status: res.status }).toEqual({ candidate, status: 401 });
    }
  });

  it('records last_used_at, at most once per interval', async () => {
    const { key, id } = await createKey(actors.user, ['customers:read']);
    await request(app).get('/customers').set('X-API-Key', key);
    let first: Date | undefined;
    for (let i = 0; i < 50 && !first; i += 1) {
      first = (await ApiKeyUsage.findById(id).lean())?.last_used_at;
      if (!first) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(first).toBeInstanceOf(Date);
    await request(app).get('/customers').set('X-API-Key', key);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await ApiKeyUsage.findById(id).lean())?.last_used_at).toEqual(first);
    const listed = await request(app).get('/api-keys?limit=100').set(actors.user.headers);
    expect(listed.body.find((k: { id: string }) => k.id === id)?.last_used_at).toBe(first?.toISOString());
  });

  it('never writes the key to the logs', async () => {
    const { key } = await createKey(actors.user, ['customers:read']);
    lines.length = 0;
    await request(app).get('/customers').set('X-API-Key', key);
    await request(app).get('/customers').set('Authorization', `Bearer ${key}`);
    await request(app).get('/customers').set('X-API-Key', `${key}wrong`);
    const secret = key.split('_').slice(2).join('_');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(JSON.stringify(lines)).toContain('"x-api-key":"[redacted]"');
    const prefix = key.split('_')[1];
    expect(lines.filter((line) => line.api_key_prefix === prefix && line.msg === 'request completed')).toHaveLength(2);
    expect(JSON.stringify(lines)).not.toContain(secret.slice(0, 20));
  });
});

describe('GET /api-keys and DELETE /api-keys/:id', () => {
  it('lists the caller’s own keys without secrets; an ADMIN sees everyone’s', async () => {
    const mine = await createKey(actors.otherUser, ['customers:read']);
    const own = await request(app).get('/api-keys?limit=100').set(actors.otherUser.headers);
    expect(own.status).toBe(200);
    expect(own.body.every((k: { owner_id: string }) => k.owner_id === actors.otherUser.id)).toBe(true);
    expect(own.body.map((k: { id: string }) => k.id)).toContain(mine.id);
    expect(JSON.stringify(own.body)).not.toMatch(/crm_|secret_hash|"key"/);
    const others = await request(app).get(`/api-keys?owner_id=${actors.user.id}`).set(actors.otherUser.headers);
    expect(others.body).toEqual([]);
    const all = await request(app).get('/api-keys?limit=100').set(actors.admin.headers);
    const owners = new Set(all.body.map((k: { owner_id: string }) => k.owner_id));
    expect(owners.has(actors.user.id) && owners.has(actors.otherUser.id)).toBe(true);
    const one = await request(app).get(`/api-keys?owner_id=${actors.otherUser.id}&limit=100`).set(actors.admin.headers);
    expect(one.body.map((k: { id: string }) => k.id).sort()).toEqual(own.body.map((k: { id: string }) => k.id).sort());
  });

  it('lets only the owner or an ADMIN revoke a key (another user gets 404)', async () => {
    const { id, key } = await createKey(actors.user, ['customers:read']);
    const foreign = await request(app).delete(`/api-keys/${id}`).set(actors.otherUser.headers);
    expect(foreign.status).toBe(404);
    expect((await request(app).get('/customers').set('X-API-Key', key)).status).toBe(200);
    const byAdmin = await request(app).delete(`/api-keys/${id}`).set(actors.admin.headers);
    expect(byAdmin.status).toBe(200);
    expect((await ApiKey.findById(id).lean())?.revoked_at).toBeInstanceOf(Date);
    expect((await request(app).get('/customers').set('X-API-Key', key)).status).toBe(401);
  });
});

describe('rate limits with API keys', () => {
  it('count per key, not per address', async () => {
    const limited = buildTestApp({ rateLimit: { global: { windowMs: 60_000, limit: 3 } } });
    const [a, b] = [await createKey(actors.user, ['customers:read']), await createKey(actors.user, ['customers:read'])];
    // A key's first request counts against the address (it is not yet known to be genuine); then the key's own.
    const statusesA: number[] = [];
    for (let i = 0; i < 5; i += 1) statusesA.push((await request(limited).get('/customers').set('X-API-Key', a.key)).status);
    expect(statusesA).toEqual([200, 200, 200, 200, 429]);
    const statusesB: number[] = [];
    for (let i = 0; i < 4; i += 1) statusesB.push((await request(limited).get('/customers').set('X-API-Key', b.key)).status);
    expect(statusesB).toEqual([200, 200, 200, 200]);
  });
});
