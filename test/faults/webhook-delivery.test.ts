import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { processUnderTest, signInOps, until } from '../helpers/process-under-test';
import { WebhookReceiver } from '../helpers/webhook-receiver';

// Webhook deliveries across real service processes (SPEC §8): an event survives a SIGKILL of the service after
// the entity write (before or during its delivery), and two instances sharing the database deliver each event
// once.

const service = processUnderTest('webhook_faults', {
  DATA_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'),
  WEBHOOK_ALLOW_PRIVATE: 'true',
  WEBHOOK_BACKOFF_MS: '200',
  OUTBOX_LEASE_MS: '3000',
  WEBHOOK_TIMEOUT_MS: '1000',
});
const receiver = new WebhookReceiver();
const { start, kill } = service;

async function call(base: string, method: string, path: string, token?: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { token } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const deliveries = () => service.db().collection('outbox');

beforeAll(async () => {
  await receiver.start();
});

// Every test starts with no service process left from an earlier one (a failed test may leave one).
beforeEach(service.killAll);

afterAll(async () => {
  await receiver.stop();
});

describe('a webhook event and a killed service', () => {
  it('is delivered once after a restart when the process died between the entity write and the delivery', async () => {
    receiver.reset();
    // No worker in the first process: the event can only be in the database when it dies.
    const first = await start({ OUTBOX_ENABLED: 'false' });
    const token = await signInOps(first.base);
    const hook = await call(first.base, 'POST', '/webhooks', token, { url: receiver.url('/killed'), events: ['customer.created'] });
    expect(hook.status).toBe(201);
    const customer = await call(first.base, 'POST', '/customers', token, { name: 'Survivor', email: 'survivor@fault.test' });
    expect(customer.status).toBe(201);
    await kill(first.server);
    expect(receiver.received).toHaveLength(0);

    const second = await start();
    await receiver.waitFor((r) => r.length === 1, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]?.json).toMatchObject({ type: 'customer.created', data: { object: { id: customer.body.id } } });
    expect(await deliveries().findOne({ endpoint: { $exists: true }, event: 'customer.created' })).toMatchObject({
      status: 'sent',
      attempts: 1,
    });
    await kill(second.server);
  });

  it('is delivered again by the next process when the one holding the attempt dies mid-request', async () => {
    receiver.reset();
    await deliveries().deleteMany({});
    const first = await start();
    const token = await signInOps(first.base);
    receiver.answers.push('hang');
    const customer = await call(first.base, 'POST', '/customers', token, { name: 'Mid Flight', email: 'mid.flight@fault.test' });
    expect(customer.status).toBe(201);
    await receiver.waitFor((r) => r.length === 1, 30_000);
    await kill(first.server);

    const second = await start();
    // The dead process's lease (OUTBOX_LEASE_MS, 3 s) runs out; the next attempt goes out and succeeds.
    const received = await receiver.waitFor((r) => r.length === 2, 30_000);
    expect(received[1]?.headers['webhook-id']).toBe(received[0]?.headers['webhook-id']);
    // The receiver has answered; the worker records the outcome just after.
    const done = await until(() => deliveries().findOne({ event: 'customer.created', status: 'sent' }), Boolean, 15_000, 50);
    expect(done).toMatchObject({ status: 'sent', attempts: 2 });
    await kill(second.server);
  });
});

describe('two instances', () => {
  it('deliver each of 200 events exactly once between them', async () => {
    receiver.reset();
    await deliveries().deleteMany({});
    // The default lease and timeout: with the short ones above, an attempt that times out on a loaded machine
    // after the receiver has read it is (rightly, at-least-once) sent again, which is not what this measures.
    const defaults = { OUTBOX_LEASE_MS: '60000', WEBHOOK_TIMEOUT_MS: '10000' };
    const [a, b] = [await start(defaults), await start(defaults)];
    const tokens = [await signInOps(a.base), await signInOps(b.base)];
    const bases = [a.base, b.base];
    const events = 200;
    const ids: string[] = [];
    for (let from = 0; from < events; from += 10) {
      const batch = await Promise.all(
        Array.from({ length: 10 }, (_, k) => {
          const i = from + k;
          return call(bases[i % 2] ?? '', 'POST', '/customers', tokens[i % 2], { name: `Twin ${i}`, email: `twin${i}@fault.test` });
        }),
      );
      for (const res of batch) ids.push(String(res.body.id));
    }
    expect(new Set(ids).size).toBe(events);
    await receiver.waitFor((r) => new Set(r.map((h) => h.json.data.object.id)).size >= events, 120_000);
    // Anything sent twice would arrive within a lease; wait for longer than one.
    await new Promise((resolve) => setTimeout(resolve, 4000));
    const perEvent = new Map<string, number>();
    for (const hook of receiver.received)
      perEvent.set(String(hook.headers['webhook-id']), (perEvent.get(String(hook.headers['webhook-id'])) ?? 0) + 1);
    expect(perEvent.size).toBe(events);
    expect([...perEvent.values()].filter((n) => n > 1)).toEqual([]);
    expect(await deliveries().countDocuments({ channel: 'webhook', attempts: { $ne: 1 } })).toBe(0);
    expect(new Set(receiver.received.map((h) => h.json.data.object.id))).toEqual(new Set(ids));
    // Both instances took part (each claim names its worker).
    const hookIds = await deliveries().distinct('_id', { channel: 'webhook' });
    const workers = await service
      .db()
      .collection('outbox_claims')
      .distinct('worker', { message: { $in: hookIds } });
    expect(workers.length).toBe(2);
    // Two service starts and 200 writes: minutes on FerretDB on a loaded machine.
  }, 180_000);
});
