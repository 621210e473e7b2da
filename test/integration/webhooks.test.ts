import '../helpers/env/webhooks-private';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { Webhook } from 'standardwebhooks';
import { OutboxMessage } from '../../src/models/outbox.model';
import { WebhookEndpoint } from '../../src/models/webhook-endpoint.model';
import { OutboxWorker } from '../../src/services/outbox.worker';
import { createLogger } from '../../src/utils/logger';
import { buildTestApp } from '../helpers/app';
import { createActors, uniqueEmail, type Actors } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';
import { eventually, outboxSettled } from '../helpers/smtp';
import { signatureHeaders, WebhookReceiver, type ReceivedHook } from '../helpers/webhook-receiver';

// Webhooks end to end (SPEC §8): endpoints created through the API, events caused through the API, a real
// outbox worker delivering to a real node:http receiver, signatures checked with the `standardwebhooks`
// package. WEBHOOK_ALLOW_PRIVATE is on in this file (the receiver listens on 127.0.0.1); the SSRF refusals
// are in webhook-ssrf.test.ts.

useTestDatabase();
const app = buildTestApp();
const receiver = new WebhookReceiver();
const silent = createLogger(undefined, 'silent');
let actors: Actors;
let worker: OutboxWorker;

function newWorker(disableAfterFailures = 1000) {
  return new OutboxWorker({
    logger: silent,
    smtp: null,
    pollMs: 100,
    leaseMs: 3000,
    backoffMs: 50,
    batchSize: 20,
    workerId: 'webhook-test-worker',
    webhooks: { backoffMs: 50, timeoutMs: 800, disableAfterFailures },
  });
}

async function restartWorker(disableAfterFailures?: number) {
  await worker.stop();
  worker = newWorker(disableAfterFailures);
  worker.start();
}

beforeAll(async () => {
  await receiver.start();
  actors = await createActors(app);
  worker = newWorker();
  worker.start();
});

afterAll(async () => {
  await worker.stop();
  await receiver.stop();
});

beforeEach(async () => {
  await outboxSettled();
  await restartWorker();
  receiver.reset();
});

afterEach(async () => {
  // Through the API, so the service's subscriber cache forgets them at once.
  for (const endpoint of await WebhookEndpoint.find({}, { _id: 1 }).lean()) {
    await request(app).delete(`/webhooks/${endpoint._id.toHexString()}`).set(actors.admin.headers);
  }
});

async function createEndpoint(body: Record<string, unknown> = {}) {
  const res = await request(app)
    .post('/webhooks')
    .set(actors.admin.headers)
    .send({ url: receiver.url(), events: ['*'], ...body });
  expect(res.status).toBe(201);
  return res.body as { id: string; secret: string; events: string[] };
}

async function createCustomer(name = 'Hooked Customer') {
  const res = await request(app)
    .post('/customers')
    .set(actors.manager.headers)
    .send({ name, email: uniqueEmail('hooked'), company: 'ACME' });
  expect(res.status).toBe(201);
  return res.body as { id: string; email: string };
}

const verify = (secret: string, hook: ReceivedHook) => new Webhook(secret).verify(hook.body, signatureHeaders(hook));

describe('POST/GET/PATCH/DELETE /webhooks', () => {
  it('creates an endpoint, shows its whsec_ secret once and never again', async () => {
    const created = await createEndpoint({ events: ['customer.created', 'ticket.status_changed'], description: 'Billing' });
    expect(created).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f]{24}$/),
      webhook_id: created.id,
      url: receiver.url(),
      events: ['customer.created', 'ticket.status_changed'],
      description: 'Billing',
      active: true,
      disabled_reason: null,
      consecutive_failures: 0,
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
    });
    const stored = await WebhookEndpoint.findById(created.id).lean();
    expect(JSON.stringify(stored)).not.toContain(created.secret.slice(6));

    const one = await request(app).get(`/webhooks/${created.id}`).set(actors.admin.headers);
    expect(one.status).toBe(200);
    expect(one.body.secret).toBeUndefined();
    expect(JSON.stringify(one.body)).not.toContain('whsec_');
    const list = await request(app).get('/webhooks').set(actors.admin.headers);
    expect(list.status).toBe(200);
    expect(list.headers['x-total-count']).toBe('1');
    expect(list.body.map((w: { id: string }) => w.id)).toEqual([created.id]);
    expect(JSON.stringify(list.body)).not.toContain('whsec_');
  });

  it('answers 400 for unknown events, a bad URL or an empty change, and 404 for an unknown id', async () => {
    const bad = await request(app)
      .post('/webhooks')
      .set(actors.admin.headers)
      .send({ url: 'ftp://example.com/x', events: ['customer.exploded'] });
    expect(bad.status).toBe(400);
    expect(bad.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['events.0', 'url']);
    const noEvents = await request(app).post('/webhooks').set(actors.admin.headers).send({ url: receiver.url(), events: [] });
    expect(noEvents.status).toBe(400);
    const injected = await request(app)
      .post('/webhooks')
      .set(actors.admin.headers)
      .send({ url: { $gt: '' }, events: ['*'] });
    expect(injected.status).toBe(400);
    const { id } = await createEndpoint();
    expect((await request(app).patch(`/webhooks/${id}`).set(actors.admin.headers).send({})).status).toBe(400);
    expect((await request(app).get('/webhooks/0123456789abcdef01234567').set(actors.admin.headers)).status).toBe(404);
    expect((await request(app).get('/webhooks/nope').set(actors.admin.headers)).status).toBe(400);
  });

  it('changes events, pauses and deletes an endpoint together with its deliveries', async () => {
    const { id } = await createEndpoint();
    await createCustomer();
    await eventually(async () => (await OutboxMessage.countDocuments({ endpoint: id, status: 'sent' })) === 1);
    const paused = await request(app)
      .patch(`/webhooks/${id}`)
      .set(actors.admin.headers)
      .send({ active: false, events: ['ticket.created'] });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ active: false, disabled_reason: 'manual', events: ['ticket.created'] });
    await createCustomer();
    const deleted = await request(app).delete(`/webhooks/${id}`).set(actors.admin.headers);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ message: 'Webhook deleted successfully' });
    expect(await OutboxMessage.countDocuments({ endpoint: id })).toBe(0);
    expect(receiver.received).toHaveLength(1);
  });
});

describe('event deliveries', () => {
  it('POSTs customer.created signed per Standard Webhooks, with the public shape and no secret', async () => {
    const { id, secret } = await createEndpoint({ events: ['customer.created'] });
    const customer = await createCustomer('Signed Customer');
    const [hook] = await receiver.waitFor((r) => r.length === 1);
    if (!hook) throw new Error('no hook');
    expect(verify(secret, hook)).toMatchObject({ type: 'customer.created' });
    expect(hook.headers['content-type']).toBe('application/json');
    expect(hook.headers['webhook-id']).toBe(hook.json.id);
    expect(hook.json).toEqual({
      id: expect.stringMatching(/^evt_[0-9a-f]{24}$/),
      type: 'customer.created',
      created_at: expect.any(String),
      data: { object: expect.objectContaining({ id: customer.id, customer_id: customer.id, name: 'Signed Customer', company: 'ACME' }) },
    });
    expect(hook.body).not.toMatch(/password|search_terms/);
    // A tampered body or another secret does not verify.
    expect(() => new Webhook(secret).verify(hook.body.replace('Signed', 'Forged'), signatureHeaders(hook))).toThrow();
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(hook.body, signatureHeaders(hook))).toThrow();

    const deliveries = await eventually(async () => {
      const res = await request(app).get(`/webhooks/${id}/deliveries`).set(actors.admin.headers);
      return res.body[0]?.status === 'sent' ? res : undefined;
    });
    expect(deliveries.status).toBe(200);
    expect(deliveries.body).toEqual([
      expect.objectContaining({
        webhook_id: id,
        event_id: hook.json.id,
        event: 'customer.created',
        status: 'sent',
        attempts: 1,
        last_status_code: 200,
        last_duration_ms: expect.any(Number),
        last_error: null,
        delivered_at: expect.any(String),
      }),
    ]);
  });

  it('sends only subscribed events, and previous values of the changed fields on an update', async () => {
    const { secret } = await createEndpoint({ events: ['customer.updated'] });
    const customer = await createCustomer('Before Name');
    const res = await request(app)
      .patch(`/customers/${customer.id}`)
      .set(actors.manager.headers)
      .send({ name: 'After Name', phone: '555-0100' });
    expect(res.status).toBe(200);
    const [hook] = await receiver.waitFor((r) => r.length === 1);
    if (!hook) throw new Error('no hook');
    verify(secret, hook);
    expect(hook.json.type).toBe('customer.updated');
    expect(hook.json.data.object).toMatchObject({ id: customer.id, name: 'After Name', phone: '555-0100' });
    expect(hook.json.data.previous).toEqual({ name: 'Before Name', phone: null });
    await outboxSettled();
    expect(receiver.received.map((h) => h.json.type)).toEqual(['customer.updated']);
  });

  it('publishes interactions without their encrypted notes and outcome, and ticket status changes twice', async () => {
    await createEndpoint({ events: ['interaction.created', 'ticket.updated', 'ticket.status_changed', 'ticket.deleted'] });
    const interaction = await request(app)
      .post('/interactions')
      .set(actors.user.headers)
      .send({ customer_id: actors.customer.id, type: 'call', title: 'Intro call', notes: 'Budget approved', outcome: 'Won' });
    expect(interaction.status).toBe(201);
    const ticket = await request(app)
      .post(`/customers/ticket/${interaction.body.id}`)
      .set(actors.customer.headers)
      .send({ title: 'Broken invoice' });
    expect(ticket.status).toBe(201);
    const moved = await request(app)
      .patch(`/customers/ticket/${ticket.body.id}`)
      .set(actors.manager.headers)
      .send({ status: 'in_progress' });
    expect(moved.status).toBe(200);
    await receiver.waitFor((r) => r.length === 3);
    const created = receiver.ofType('interaction.created')[0];
    expect(created?.json.data.object).toMatchObject({ id: interaction.body.id, title: 'Intro call' });
    expect(created?.body).not.toMatch(/notes|outcome|Budget approved/);
    for (const type of ['ticket.updated', 'ticket.status_changed']) {
      const [hook] = receiver.ofType(type);
      expect(hook?.json.data).toEqual({
        object: expect.objectContaining({ id: ticket.body.id, status: 'in_progress' }),
        previous: { status: 'open' },
      });
    }
    // One event id per event: the two events are told apart.
    expect(new Set(receiver.received.map((h) => h.json.id)).size).toBe(3);
  });

  it('publishes import.completed when an import has written', async () => {
    await createEndpoint({ events: ['import.completed'] });
    const csv = `name,email,company\nImported One,${uniqueEmail('imp')},ACME\n`;
    const res = await request(app).post('/import/customer_data').set(actors.manager.headers).set('Content-Type', 'text/csv').send(csv);
    expect(res.status).toBe(200);
    const [hook] = await receiver.waitFor((r) => r.length === 1);
    expect(hook?.json.type).toBe('import.completed');
    expect(hook?.json.data.object).toMatchObject({ status: 'completed', report: expect.objectContaining({ inserted: 1 }) });
    const dry = await request(app)
      .post('/import/customer_data?dry_run=true')
      .set(actors.manager.headers)
      .set('Content-Type', 'text/csv')
      .send(csv);
    expect(dry.status).toBe(200);
    await outboxSettled();
    expect(receiver.received).toHaveLength(1);
  });
});

describe('include_encrypted_fields', () => {
  const createCall = (notes: string) =>
    request(app)
      .post('/interactions')
      .set(actors.user.headers)
      .send({ customer_id: actors.customer.id, type: 'call', title: 'Sealed call', notes, outcome: 'Won' });

  it('sends notes and outcome decrypted to an opted-in endpoint only, and stores its payload encrypted', async () => {
    const events = ['interaction.created', 'interaction.updated'];
    const opted = await createEndpoint({ url: receiver.url('/private'), events, include_encrypted_fields: true });
    const plain = await createEndpoint({ url: receiver.url('/public'), events });
    expect(opted).toMatchObject({ include_encrypted_fields: true });
    expect(plain).toMatchObject({ include_encrypted_fields: false });
    const created = await createCall('Budget approved by the CFO');
    expect(created.status).toBe(201);
    await receiver.waitFor((r) => r.length === 2);
    const [hookPrivate] = receiver.received.filter((h) => h.path === '/private');
    const [hookPublic] = receiver.received.filter((h) => h.path === '/public');
    if (!hookPrivate || !hookPublic) throw new Error('a hook is missing');
    verify(opted.secret, hookPrivate);
    verify(plain.secret, hookPublic);
    expect(hookPrivate.json.id).toBe(hookPublic.json.id);
    expect(hookPrivate.json.data.object).toMatchObject({ id: created.body.id, notes: 'Budget approved by the CFO', outcome: 'Won' });
    expect(hookPublic.json.data.object).toMatchObject({ id: created.body.id, title: 'Sealed call' });
    expect(hookPublic.body).not.toMatch(/notes|outcome|Budget approved/);

    // At rest: the opted-in delivery's payload is ciphertext; the other one is the plain public JSON.
    const stored = await OutboxMessage.find({ event_id: hookPrivate.json.id }).lean();
    const privatePayload = stored.find((m) => m.endpoint?.toHexString() === opted.id)?.payload;
    const publicPayload = stored.find((m) => m.endpoint?.toHexString() === plain.id)?.payload;
    expect(privatePayload).toMatch(/^enc:v1:/);
    expect(privatePayload).not.toContain('Budget approved');
    expect(publicPayload).toBe(hookPublic.body);

    receiver.reset();
    const changed = await request(app).patch(`/interactions/${created.body.id}`).set(actors.user.headers).send({ notes: 'Budget cut' });
    expect(changed.status).toBe(200);
    await receiver.waitFor((r) => r.length === 2);
    const update = receiver.received.find((h) => h.path === '/private');
    expect(update?.json.data).toEqual({
      object: expect.objectContaining({ notes: 'Budget cut', outcome: 'Won' }),
      previous: { notes: 'Budget approved by the CFO' },
    });
    expect(receiver.received.find((h) => h.path === '/public')?.body).not.toMatch(/notes|Budget/);

    // A redelivery opens the sealed payload again; moved onto another delivery, it no longer opens.
    await outboxSettled();
    receiver.reset();
    const privateId = stored.find((m) => m.endpoint?.toHexString() === opted.id)?._id.toHexString();
    const again = await request(app).post(`/webhooks/${opted.id}/deliveries/${privateId}/redeliver`).set(actors.admin.headers);
    expect(again.status).toBe(202);
    const [repeat] = await receiver.waitFor((r) => r.length === 1);
    expect(repeat?.json.data.object).toMatchObject({ notes: 'Budget approved by the CFO' });
    const publicMessage = stored.find((m) => m.endpoint?.toHexString() === plain.id);
    await OutboxMessage.updateOne({ _id: publicMessage?._id }, { $set: { payload: privatePayload } });
    const moved = await request(app)
      .post(`/webhooks/${plain.id}/deliveries/${publicMessage?._id.toHexString()}/redeliver`)
      .set(actors.admin.headers);
    expect(moved.status).toBe(202);
    const failed = await eventually(async () => {
      const message = await OutboxMessage.findById(publicMessage?._id).lean();
      return message?.last_error ? message : undefined;
    });
    expect(failed.last_error).toMatch(/authentication failed/);
    expect(receiver.received).toHaveLength(1);
  });

  it('is off by default, toggled by PATCH, and refuses a non-boolean', async () => {
    const { id } = await createEndpoint({ events: ['interaction.created'] });
    expect((await request(app).get(`/webhooks/${id}`).set(actors.admin.headers)).body.include_encrypted_fields).toBe(false);
    const bad = await request(app).patch(`/webhooks/${id}`).set(actors.admin.headers).send({ include_encrypted_fields: 'yes' });
    expect(bad.status).toBe(400);
    expect(bad.body.details.map((d: { field: string }) => d.field)).toEqual(['include_encrypted_fields']);

    const on = await request(app).patch(`/webhooks/${id}`).set(actors.admin.headers).send({ include_encrypted_fields: true });
    expect(on.status).toBe(200);
    expect(on.body.include_encrypted_fields).toBe(true);
    expect((await createCall('First secret note')).status).toBe(201);
    const [first] = await receiver.waitFor((r) => r.length === 1);
    expect(first?.json.data.object).toMatchObject({ notes: 'First secret note', outcome: 'Won' });

    const off = await request(app).patch(`/webhooks/${id}`).set(actors.admin.headers).send({ include_encrypted_fields: false });
    expect(off.body.include_encrypted_fields).toBe(false);
    expect((await createCall('Second secret note')).status).toBe(201);
    const [, second] = await receiver.waitFor((r) => r.length === 2);
    expect(second?.json.data.object).not.toHaveProperty('notes');
    expect(second?.body).not.toMatch(/outcome|Second secret note/);
  });
});

describe('retries and failures', () => {
  it('retries a receiver that fails twice, then succeeds, with the same webhook-id each time', async () => {
    const { id, secret } = await createEndpoint({ events: ['customer.created'] });
    receiver.answers.push(500, 503);
    await createCustomer();
    await receiver.waitFor((r) => r.length === 3);
    expect(new Set(receiver.received.map((h) => h.headers['webhook-id'])).size).toBe(1);
    for (const hook of receiver.received) verify(secret, hook);
    const delivery = await eventually(async () => {
      const found = await OutboxMessage.findOne({ endpoint: id }).lean();
      return found?.status === 'sent' ? found : undefined;
    });
    expect(delivery).toMatchObject({ attempts: 3, last_status_code: 200, last_error: null });
    const endpoint = await request(app).get(`/webhooks/${id}`).set(actors.admin.headers);
    expect(endpoint.body).toMatchObject({ active: true, consecutive_failures: 0 });
  });

  it('counts a redirect and a timeout as failures (a redirect is not followed)', async () => {
    const { id } = await createEndpoint({ events: ['customer.created'] });
    receiver.answers.push((res) => res.writeHead(302, { location: receiver.url('/elsewhere') }).end(), 'hang');
    await createCustomer();
    await receiver.waitFor((r) => r.length === 3);
    expect(receiver.received.map((h) => h.path)).toEqual(['/hooks', '/hooks', '/hooks']);
    const delivery = await eventually(async () => {
      const found = await OutboxMessage.findOne({ endpoint: id }).lean();
      return found?.status === 'sent' ? found : undefined;
    });
    expect(delivery.attempts).toBe(3);
  });

  it('disables an endpoint that answers 410 Gone and tells every ADMIN in-app', async () => {
    const { id } = await createEndpoint({ events: ['customer.created'] });
    receiver.defaultAnswer = 410;
    await createCustomer();
    const endpoint = await eventually(async () => {
      const res = await request(app).get(`/webhooks/${id}`).set(actors.admin.headers);
      return res.body.active === false ? res.body : undefined;
    });
    expect(endpoint).toMatchObject({ disabled_reason: 'gone', disabled_at: expect.any(String) });
    expect(await OutboxMessage.findOne({ endpoint: id }).lean()).toMatchObject({ status: 'failed', attempts: 1, last_status_code: 410 });
    const notes = await request(app).get('/notifications').set(actors.admin.headers);
    expect(notes.body).toEqual(
      expect.arrayContaining([expect.objectContaining({ event: 'webhook.disabled', entity: 'webhook', entity_id: id })]),
    );
    const managerNotes = await request(app).get('/notifications').set(actors.manager.headers);
    expect(managerNotes.body.map((n: { event: string }) => n.event)).not.toContain('webhook.disabled');
    // Disabled: later events are not sent.
    await createCustomer();
    await outboxSettled();
    expect(receiver.received).toHaveLength(1);
    // Re-enabled, it hears again.
    receiver.defaultAnswer = 200;
    const enabled = await request(app).patch(`/webhooks/${id}`).set(actors.admin.headers).send({ active: true });
    expect(enabled.body).toMatchObject({ active: true, disabled_reason: null, consecutive_failures: 0 });
    await createCustomer();
    await receiver.waitFor((r) => r.length === 2);
  });

  it('disables an endpoint after N failed attempts in a row', async () => {
    await restartWorker(3);
    const { id } = await createEndpoint({ events: ['customer.created'] });
    receiver.defaultAnswer = 500;
    await createCustomer();
    const endpoint = await eventually(async () => {
      const res = await request(app).get(`/webhooks/${id}`).set(actors.admin.headers);
      return res.body.active === false ? res.body : undefined;
    });
    expect(endpoint).toMatchObject({ disabled_reason: 'failures', consecutive_failures: 3 });
    await outboxSettled();
    expect(receiver.received).toHaveLength(3);
    const notes = await request(app).get('/notifications').set(actors.admin.headers);
    expect(notes.body.filter((n: { entity_id: string }) => n.entity_id === id)).toHaveLength(1);
  });
});

describe('ping, rotation, deliveries and redelivery', () => {
  it('sends a signed ping on POST /webhooks/:id/test', async () => {
    const { id, secret } = await createEndpoint({ events: ['ticket.created'] });
    const res = await request(app).post(`/webhooks/${id}/test`).set(actors.admin.headers);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ webhook_id: id, event: 'ping', status: 'pending', attempts: 0 });
    const [hook] = await receiver.waitFor((r) => r.length === 1);
    if (!hook) throw new Error('no hook');
    expect(verify(secret, hook)).toMatchObject({ type: 'ping', data: { object: { webhook_id: id, message: 'ping' } } });
  });

  it('signs with the old and the new secret during the grace period, then with the new one only', async () => {
    const { id, secret: oldSecret } = await createEndpoint({ events: ['customer.created'] });
    const rotated = await request(app).post(`/webhooks/${id}/rotate-secret`).set(actors.admin.headers);
    expect(rotated.status).toBe(200);
    const newSecret = String(rotated.body.secret);
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(oldSecret);
    const expires = Date.parse(rotated.body.webhook.previous_secret_expires_at);
    expect(expires - Date.now()).toBeGreaterThan(23.9 * 3_600_000);
    await createCustomer();
    const [first] = await receiver.waitFor((r) => r.length === 1);
    if (!first) throw new Error('no hook');
    expect(String(first.headers['webhook-signature']).split(' ')).toHaveLength(2);
    verify(oldSecret, first);
    verify(newSecret, first);

    const again = await request(app).post(`/webhooks/${id}/rotate-secret`).set(actors.admin.headers).send({ grace_hours: 0 });
    expect(again.status).toBe(200);
    expect(again.body.webhook.previous_secret_expires_at).toBeNull();
    await createCustomer();
    const [, second] = await receiver.waitFor((r) => r.length === 2);
    if (!second) throw new Error('no hook');
    verify(String(again.body.secret), second);
    expect(() => verify(newSecret, second)).toThrow();
    expect(() => verify(oldSecret, second)).toThrow();
  });

  it('lists deliveries newest first with keyset paging and a status filter, and redelivers one', async () => {
    const { id } = await createEndpoint({ events: ['customer.created'] });
    for (const name of ['One', 'Two', 'Three']) await createCustomer(name);
    await receiver.waitFor((r) => r.length === 3);
    await outboxSettled();
    const first = await request(app).get(`/webhooks/${id}/deliveries?limit=2`).set(actors.admin.headers);
    expect(first.status).toBe(200);
    expect(first.body).toHaveLength(2);
    expect(first.headers['x-total-count']).toBe('3');
    const next = /<([^>]+)>; rel="next"/.exec(String(first.headers.link))?.[1];
    expect(next).toBeDefined();
    const rest = await request(app).get(String(next)).set(actors.admin.headers);
    expect(rest.body).toHaveLength(1);
    const ids = [...first.body, ...rest.body].map((d: { id: string }) => d.id);
    expect(new Set(ids).size).toBe(3);
    expect((await request(app).get(`/webhooks/${id}/deliveries?status=failed`).set(actors.admin.headers)).body).toEqual([]);

    const target = first.body[0] as { id: string; event_id: string };
    const redelivered = await request(app).post(`/webhooks/${id}/deliveries/${target.id}/redeliver`).set(actors.admin.headers);
    expect(redelivered.status).toBe(202);
    expect(redelivered.body).toMatchObject({ id: target.id, status: 'pending', delivered_at: null });
    await receiver.waitFor((r) => r.length === 4);
    expect(receiver.received[3]?.headers['webhook-id']).toBe(target.event_id);
    const done = await eventually(async () => {
      const found = await OutboxMessage.findById(target.id).lean();
      return found?.status === 'sent' ? found : undefined;
    });
    expect(done.attempts).toBe(2);
  });

  it('answers 409 to a redelivery of a pending delivery and 404 to one of another endpoint', async () => {
    const { id } = await createEndpoint({ events: ['customer.created'] });
    const other = await createEndpoint({ events: ['ticket.created'], url: receiver.url('/other') });
    receiver.answers.push('hang');
    await createCustomer();
    const pending = await eventually(async () => (await OutboxMessage.findOne({ endpoint: id }).lean()) ?? undefined);
    const res = await request(app).post(`/webhooks/${id}/deliveries/${pending._id.toHexString()}/redeliver`).set(actors.admin.headers);
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('DELIVERY_PENDING');
    const foreign = await request(app)
      .post(`/webhooks/${other.id}/deliveries/${pending._id.toHexString()}/redeliver`)
      .set(actors.admin.headers);
    expect(foreign.status).toBe(404);
  });
});
