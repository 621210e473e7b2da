import '../helpers/env/webhooks-private';
import { beforeAll } from '@jest/globals';
import mongoose from 'mongoose';
import { OutboxMessage } from '../../src/models/outbox.model';
import { WebhookEndpoint } from '../../src/models/webhook-endpoint.model';
import { buildTestApp } from '../helpers/app';
import { runAccessMatrix, statuses, type AccessCase, type Attempt } from '../helpers/access-matrix';
import { createActors, type Actors } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';

// SPEC §3 and §8 as data: every webhook route × every kind of caller. Webhooks are ADMIN's alone
// (`webhooks:manage`): 401 without a token, 403 for every other role; a refused write changes nothing.
// No worker runs here: deliveries stay pending, which is all the redelivery row needs (a sent one is made so).

useTestDatabase();
const app = buildTestApp();
let actors: Actors;
beforeAll(async () => {
  actors = await createActors(app);
});

const adminOnly = (ok: number) => statuses(401, ok, 403, 403, 403, 403, 403);

/** A fresh endpoint per attempt (with one delivered delivery), so a deletion never affects the next row. */
async function freshEndpoint(): Promise<{ id: string; delivery: string }> {
  const endpoint = await WebhookEndpoint.create({
    url: 'http://127.0.0.1:9/hooks',
    events: ['*'],
    secrets: [{ sealed: 'not-used', created_at: new Date(), expires_at: null }],
    created_by: new mongoose.Types.ObjectId(),
  });
  const delivery = await OutboxMessage.create({
    channel: 'webhook',
    event: 'customer.created',
    endpoint: endpoint._id,
    event_id: 'evt_access',
    payload: '{}',
    status: 'sent',
    attempts: 1,
    max_attempts: 3,
    next_attempt_at: new Date(),
  });
  return { id: endpoint._id.toHexString(), delivery: delivery._id.toHexString() };
}

const endpointIn = (attempt: Attempt) => /\/webhooks\/([0-9a-f]{24})/.exec(attempt.path)?.[1];
async function endpointState(_actors: Actors, attempt: Attempt) {
  const id = endpointIn(attempt);
  return {
    endpoints: await WebhookEndpoint.countDocuments(),
    endpoint: id ? await WebhookEndpoint.findById(id, { updated_at: 0 }).lean() : null,
    deliveries: id ? await OutboxMessage.find({ endpoint: id }, { updated_at: 0 }).lean() : null,
  };
}

const cases: AccessCase[] = [
  {
    method: 'post',
    route: 'POST /webhooks',
    path: () => '/webhooks',
    body: () => ({ url: 'http://127.0.0.1:9/hooks', events: ['customer.created'] }),
    expect: adminOnly(201),
    state: endpointState,
  },
  { method: 'get', route: 'GET /webhooks', path: () => '/webhooks', expect: adminOnly(200) },
  {
    method: 'get',
    route: 'GET /webhooks/:webhook_id',
    path: async () => `/webhooks/${(await freshEndpoint()).id}`,
    expect: adminOnly(200),
  },
  {
    method: 'patch',
    route: 'PATCH /webhooks/:webhook_id',
    path: async () => `/webhooks/${(await freshEndpoint()).id}`,
    body: () => ({ active: false }),
    expect: adminOnly(200),
    state: endpointState,
  },
  {
    method: 'delete',
    route: 'DELETE /webhooks/:webhook_id',
    path: async () => `/webhooks/${(await freshEndpoint()).id}`,
    expect: adminOnly(200),
    state: endpointState,
  },
  {
    method: 'post',
    route: 'POST /webhooks/:webhook_id/test',
    path: async () => `/webhooks/${(await freshEndpoint()).id}/test`,
    expect: adminOnly(202),
    state: endpointState,
  },
  {
    method: 'post',
    route: 'POST /webhooks/:webhook_id/rotate-secret',
    path: async () => `/webhooks/${(await freshEndpoint()).id}/rotate-secret`,
    expect: adminOnly(200),
    state: endpointState,
  },
  {
    method: 'get',
    route: 'GET /webhooks/:webhook_id/deliveries',
    path: async () => `/webhooks/${(await freshEndpoint()).id}/deliveries`,
    expect: adminOnly(200),
  },
  {
    method: 'post',
    route: 'POST /webhooks/:webhook_id/deliveries/:delivery_id/redeliver',
    path: async () => {
      const { id, delivery } = await freshEndpoint();
      return `/webhooks/${id}/deliveries/${delivery}/redeliver`;
    },
    expect: adminOnly(202),
    state: endpointState,
  },
];

runAccessMatrix('webhook routes', app, () => actors, cases);
