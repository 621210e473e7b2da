import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import mongoose from 'mongoose';
import request from 'supertest';
import { config } from '../../src/config/env';
import { OutboxMessage } from '../../src/models/outbox.model';
import { WebhookEndpoint } from '../../src/models/webhook-endpoint.model';
import { isPublicAddress } from '../../src/services/integrations/webhook-address';
import { OutboxWorker } from '../../src/services/outbox.worker';
import { createLogger } from '../../src/utils/logger';
import { buildTestApp } from '../helpers/app';
import { createActors, uniqueEmail, type Actors } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';
import { eventually } from '../helpers/smtp';
import { WebhookReceiver } from '../helpers/webhook-receiver';

// SSRF (SPEC §8) with the default WEBHOOK_ALLOW_PRIVATE=false: endpoint URLs that resolve to loopback, private,
// link-local or metadata addresses are refused when saved, and again when a delivery is attempted (a name can
// resolve elsewhere later: simulated by an endpoint stored with such an address, as if DNS had changed).

useTestDatabase();
const app = buildTestApp();
const receiver = new WebhookReceiver();
let actors: Actors;
let worker: OutboxWorker;

beforeAll(async () => {
  await receiver.start();
  actors = await createActors(app);
  worker = new OutboxWorker({
    logger: createLogger(undefined, 'silent'),
    smtp: null,
    pollMs: 100,
    backoffMs: 50,
    webhooks: { backoffMs: 50 },
  });
  worker.start();
});

afterAll(async () => {
  await worker.stop();
  await receiver.stop();
});

describe('webhook URLs', () => {
  it('runs with private addresses refused (the default)', () => {
    expect(config.webhooks.allowPrivate).toBe(false);
  });

  it.each([
    'http://127.0.0.1/hooks',
    'http://localhost:8080/hooks',
    'http://10.0.0.5/hooks',
    'http://192.168.1.10/hooks',
    'http://172.16.0.1/hooks',
    'http://169.254.169.254/latest/meta-data/',
    'http://100.100.100.200/latest/meta-data/',
    'http://0.0.0.0/hooks',
    'http://[::1]/hooks',
    'http://[::ffff:127.0.0.1]/hooks',
    'http://[fd00:ec2::254]/hooks',
    'http://[fe80::1]/hooks',
    'http://2130706433/hooks',
    'http://0x7f.1/hooks',
  ])('refuses %s with 400 naming the url field, and stores nothing', async (url) => {
    const res = await request(app)
      .post('/webhooks')
      .set(actors.admin.headers)
      .send({ url, events: ['*'] });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'VALIDATION_ERROR', details: [expect.objectContaining({ field: 'url' })] });
    expect(await WebhookEndpoint.countDocuments({ url })).toBe(0);
  });

  it('refuses a host that does not resolve, and a PATCH to a private address', async () => {
    const unresolvable = await request(app)
      .post('/webhooks')
      .set(actors.admin.headers)
      .send({ url: 'https://no-such-host.invalid/x', events: ['*'] });
    expect(unresolvable.status).toBe(400);
    expect(unresolvable.body.details[0].message).toMatch(/does not resolve/);
    const stored = await WebhookEndpoint.create({
      url: 'https://93.184.215.14/hooks',
      events: ['*'],
      secrets: [{ sealed: 'x', created_at: new Date(), expires_at: null }],
      created_by: new mongoose.Types.ObjectId(),
    });
    const patched = await request(app)
      .patch(`/webhooks/${stored._id.toHexString()}`)
      .set(actors.admin.headers)
      .send({ url: 'http://10.1.1.1/x' });
    expect(patched.status).toBe(400);
    expect((await WebhookEndpoint.findById(stored._id).lean())?.url).toBe('https://93.184.215.14/hooks');
    await WebhookEndpoint.deleteOne({ _id: stored._id });
  });

  it('classifies addresses: only public unicast passes', () => {
    expect(['8.8.8.8', '2001:4860:4860::8888', '93.184.215.14'].every(isPublicAddress)).toBe(true);
    expect(
      ['127.0.0.1', '10.1.2.3', '169.254.169.254', '::1', '::ffff:10.0.0.1', '64:ff9b::7f00:1', '224.0.0.1', 'nonsense'].some(
        isPublicAddress,
      ),
    ).toBe(false);
  });

  it('checks again at delivery time: an endpoint whose address turned private is not contacted', async () => {
    // Created through the API would be refused; stored as if its name had resolved publicly then.
    const created = await request(app)
      .post('/webhooks')
      .set(actors.admin.headers)
      .send({ url: 'https://93.184.215.14/hooks', events: ['customer.created'] });
    expect(created.status).toBe(201);
    await WebhookEndpoint.updateOne({ _id: created.body.id }, { $set: { url: receiver.url() } });
    const customer = await request(app)
      .post('/customers')
      .set(actors.manager.headers)
      .send({ name: 'SSRF', email: uniqueEmail('ssrf') });
    expect(customer.status).toBe(201);
    const delivery = await eventually(async () => {
      const found = await OutboxMessage.findOne({ endpoint: created.body.id }).lean();
      return found && found.attempts >= 2 ? found : undefined;
    });
    expect(delivery.last_error).toMatch(/resolves to 127\.0\.0\.1.*WEBHOOK_ALLOW_PRIVATE is off/);
    expect(delivery.last_status_code ?? null).toBeNull();
    expect(receiver.received).toHaveLength(0);
    await request(app).delete(`/webhooks/${created.body.id}`).set(actors.admin.headers);
  });
});
