import type http from 'node:http';
import { beforeAll, describe, expect, it } from '@jest/globals';
import mongoose from 'mongoose';
import request from 'supertest';
import { config } from '../../src/config/env';
import { Activity } from '../../src/models/activity.model';
import { Customer } from '../../src/models/customer.model';
import { Interaction } from '../../src/models/interaction.model';
import { Ticket } from '../../src/models/ticket.model';
import { Deletion, TrashItem } from '../../src/models/trash.model';
import { purgeExpiredTrash } from '../../src/services/trash-admin.service';
import { trashRecords } from '../../src/services/trash.service';
import { buildTestApp } from '../helpers/app';
import { createActors, uniqueEmail, type Actors } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';

useTestDatabase();
const app = buildTestApp();
let actors: Actors;
type Who = keyof Actors;
const oid = (id: string) => new mongoose.Types.ObjectId(id);

beforeAll(async () => {
  actors = await createActors(app);
});

const get = (path: string, who: Who = 'manager') => request(app).get(path).set(actors[who].headers);
const post = (path: string, body: object = {}, who: Who = 'manager') => request(app).post(path).set(actors[who].headers).send(body);
const del = (path: string, who: Who = 'manager') => request(app).delete(path).set(actors[who].headers);

function collectText(res: unknown, callback: (error: Error | null, body: string) => void) {
  const stream = res as http.IncomingMessage;
  let text = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => (text += chunk));
  stream.on('end', () => callback(null, text));
}

/** A customer with `n` interactions, each with one ticket, all created through the API. */
async function customerWithWork(n: number, name = 'Trash Person') {
  const email = uniqueEmail('trash');
  const created = await post('/customers', { name, email, company: 'Bin Corp', status: 'active' });
  expect(created.status).toBe(201);
  const customerId: string = created.body.id;
  const interactions: string[] = [];
  const tickets: string[] = [];
  for (let i = 0; i < n; i += 1) {
    const interaction = await post('/interactions', { customer_id: customerId, type: 'call', title: `call ${i}` });
    expect(interaction.status).toBe(201);
    interactions.push(interaction.body.id);
    const ticket = await post(`/customers/ticket/${interaction.body.id}`, { title: `ticket ${i}` });
    expect(ticket.status).toBe(201);
    tickets.push(ticket.body.id);
  }
  return { customerId, email, interactions, tickets };
}

async function latestDeletion(recordId: string): Promise<string> {
  const deletion = await Deletion.findOne({ record_id: oid(recordId) }).lean();
  if (!deletion) throw new Error(`no deletion of ${recordId}`);
  return deletion._id;
}

async function overview() {
  const res = await get(`/analytics/overview?from=${new Date().getUTCFullYear()}-01-01`);
  expect(res.status).toBe(200);
  return res.body;
}

async function exportCsv(): Promise<string> {
  const res = await get('/export/customer_data?format=csv').buffer(true).parse(collectText);
  expect(res.status).toBe(200);
  return String(res.body);
}

describe('DELETE then POST /trash/:deletion_id/restore of a customer with cascade', () => {
  it('moves the customer, its interactions and tickets out of every read, then brings them all back with the same ids', async () => {
    const { customerId, email, interactions, tickets } = await customerWithWork(2, 'Zebulon Trashworthy');
    const before = await overview();
    const storedBefore = await Customer.findById(customerId).select('+search_terms +company_key').lean();

    const removed = await del(`/customers/${customerId}?cascade=true`);
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({ message: 'Customer deleted successfully' });

    // Gone everywhere: by id, list, q search, export, analytics, timeline, interaction and ticket reads.
    expect((await get(`/customers/${customerId}`)).status).toBe(404);
    expect((await get('/customers?limit=100')).body.map((c: { id: string }) => c.id)).not.toContain(customerId);
    expect((await get('/customers?q=trashworthy')).body).toEqual([]);
    expect(await exportCsv()).not.toContain(email);
    expect((await get(`/customers/${customerId}/activity`)).status).toBe(404);
    for (const id of interactions) expect((await get(`/interactions/${id}`)).status).toBe(404);
    for (const id of tickets) expect((await get(`/customers/tickets/${id}`)).status).toBe(404);
    const during = await overview();
    expect(during.customers.total).toBe(before.customers.total - 1);
    expect(during.interactions.total).toBe(before.interactions.total - 2);
    expect(during.tickets.created).toBe(before.tickets.created - 2);

    // One deletion with counts and the customer's summary.
    const list = await get('/trash?entity=customer');
    expect(list.status).toBe(200);
    const row = list.body.find((d: { record_id: string }) => d.record_id === customerId);
    expect(row).toMatchObject({
      entity: 'customer',
      reason: 'delete',
      deleted_by: { type: 'user', id: actors.manager.id },
      counts: { customers: 1, interactions: 2, tickets: 2 },
      summary: { name: 'Zebulon Trashworthy', email },
    });
    const detail = await get(`/trash/${row.deletion_id}`);
    expect(detail.status).toBe(200);
    expect(detail.body.items.map((i: { entity: string }) => i.entity)).toEqual([
      'customer',
      'interaction',
      'interaction',
      'ticket',
      'ticket',
    ]);
    expect(JSON.stringify(detail.body)).not.toContain('password_hash');

    const restored = await post(`/trash/${row.deletion_id}/restore`);
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({
      message: 'Restored',
      deletion_id: row.deletion_id,
      restored: { customers: [customerId], interactions: expect.arrayContaining(interactions), tickets: expect.arrayContaining(tickets) },
    });

    // Back everywhere, the same documents (hidden fields included) and the same counters.
    expect((await get(`/customers/${customerId}`)).body.email).toBe(email);
    expect((await get('/customers?q=trashworthy')).body.map((c: { id: string }) => c.id)).toEqual([customerId]);
    expect(await exportCsv()).toContain(email);
    for (const id of interactions) expect((await get(`/interactions/${id}`)).status).toBe(200);
    for (const id of tickets) expect((await get(`/customers/tickets/${id}`)).status).toBe(200);
    expect(await Customer.findById(customerId).select('+search_terms +company_key').lean()).toEqual(storedBefore);
    const after = await overview();
    expect(after.customers).toEqual(before.customers);
    expect(after.interactions).toEqual(before.interactions);
    expect(after.tickets).toEqual(before.tickets);
    const timeline = await get(`/customers/${customerId}/activity?limit=100`);
    expect(timeline.status).toBe(200);
    expect(timeline.body.map((e: { action: string }) => e.action).slice(0, 2)).toEqual(['restore', 'delete']);
    expect(await TrashItem.countDocuments({ deletion_id: row.deletion_id })).toBe(0);
    expect(await Deletion.countDocuments({ _id: row.deletion_id })).toBe(0);
    expect((await get(`/trash/${row.deletion_id}`)).status).toBe(404);
    expect((await post(`/trash/${row.deletion_id}/restore`)).status).toBe(404);
  });
});

describe('interaction and ticket deletions', () => {
  it('trashes an interaction with its tickets (cascade) and restores both', async () => {
    const { interactions, tickets } = await customerWithWork(1);
    const res = await del(`/interactions/${interactions[0]}?cascade=true`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: 'Interaction deleted successfully' });
    expect(await Ticket.exists({ _id: oid(tickets[0]!) })).toBeNull();
    const deletionId = await latestDeletion(interactions[0]!);
    const row = (await get('/trash?entity=interaction')).body.find((d: { deletion_id: string }) => d.deletion_id === deletionId);
    expect(row).toMatchObject({ counts: { customers: 0, interactions: 1, tickets: 1 }, summary: { type: 'call' } });
    expect((await post(`/trash/${deletionId}/restore`)).status).toBe(200);
    expect((await get(`/interactions/${interactions[0]}`)).status).toBe(200);
    expect((await get(`/customers/tickets/${tickets[0]}`)).body.interaction_id).toBe(interactions[0]);
  });

  it('trashes a ticket and restores it', async () => {
    const { tickets } = await customerWithWork(1);
    expect((await del(`/customers/ticket/${tickets[0]}`)).body).toEqual({ message: 'Ticket deleted successfully' });
    expect((await get(`/customers/tickets/${tickets[0]}`)).status).toBe(404);
    const deletionId = await latestDeletion(tickets[0]!);
    expect((await get(`/trash/${deletionId}`)).body).toMatchObject({ entity: 'ticket', summary: { title: 'ticket 0' } });
    expect((await post(`/trash/${deletionId}/restore`)).status).toBe(200);
    expect((await get(`/customers/tickets/${tickets[0]}`)).status).toBe(200);
  });

  it('refuses (409) to restore an interaction whose customer is itself in the trash, naming it', async () => {
    const { customerId, interactions } = await customerWithWork(1);
    expect((await del(`/interactions/${interactions[0]}?cascade=true`)).status).toBe(200);
    const interactionDeletion = await latestDeletion(interactions[0]!);
    expect((await del(`/customers/${customerId}`)).status).toBe(200);
    const customerDeletion = await latestDeletion(customerId);
    const blocked = await post(`/trash/${interactionDeletion}/restore`);
    expect(blocked.status).toBe(409);
    expect(blocked.body.code).toBe('RESTORE_BLOCKED');
    expect(blocked.body.error).toContain(customerId);
    expect(blocked.body.error).toContain(customerDeletion);
    expect(await Interaction.exists({ _id: oid(interactions[0]!) })).toBeNull();
    // Restoring the customer first unblocks it.
    expect((await post(`/trash/${customerDeletion}/restore`)).status).toBe(200);
    expect((await post(`/trash/${interactionDeletion}/restore`)).status).toBe(200);
    expect((await get(`/interactions/${interactions[0]}`)).status).toBe(200);
  });
});

describe('merge deletions', () => {
  it('answers 409 pointing at the merge undo for a deletion made by a merge', async () => {
    const created = await post('/customers', { name: 'Merged Away', email: uniqueEmail('merged') });
    const source = await Customer.findById(created.body.id).select('+password_hash +search_terms +company_key').lean();
    if (!source) throw new Error('no source');
    const target = new mongoose.Types.ObjectId();
    const { deletionId } = await trashRecords({
      customers: [source],
      root: { entity: 'customer', record_id: source._id },
      reason: 'merge',
      mergedInto: target,
      mergeId: 'merge-1234',
      principal: { type: 'user', id: actors.admin.id, role: 'ADMIN' },
    });
    const res = await post(`/trash/${deletionId}/restore`);
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('MERGE_DELETION');
    expect(res.body.error).toContain('POST /merges/merge-1234/undo');
    expect((await get(`/trash/${deletionId}`)).body).toMatchObject({
      reason: 'merge',
      merged_into: target.toHexString(),
      merge_id: 'merge-1234',
    });
  });
});

describe('purge', () => {
  it('DELETE /trash/:deletion_id purges at once (ADMIN); the background pass purges what is past the retention', async () => {
    const a = await customerWithWork(1);
    const b = await customerWithWork(0);
    expect((await del(`/customers/${a.customerId}?cascade=true`)).status).toBe(200);
    expect((await del(`/customers/${b.customerId}`)).status).toBe(200);
    const first = await latestDeletion(a.customerId);
    const second = await latestDeletion(b.customerId);

    expect((await del(`/trash/${first}`, 'manager')).status).toBe(403);
    expect((await del(`/trash/${first}`, 'admin')).body).toEqual({ message: 'Deletion purged' });
    expect(await TrashItem.countDocuments({ deletion_id: first })).toBe(0);
    expect((await post(`/trash/${first}/restore`)).status).toBe(404);

    // Not yet past the retention: kept. Backdated past it: purged by one pass.
    await purgeExpiredTrash();
    expect(await Deletion.countDocuments({ _id: second })).toBe(1);
    const old = new Date(Date.now() - config.trash.retentionMs - 60_000);
    await Deletion.collection.updateOne({ _id: second } as never, { $set: { deleted_at: old } });
    expect(await purgeExpiredTrash()).toBeGreaterThanOrEqual(1);
    expect(await Deletion.countDocuments({ _id: second })).toBe(0);
    expect(await TrashItem.countDocuments({ deletion_id: second })).toBe(0);
    // The e-mail is free again once purged.
    expect((await post('/customers', { name: 'Again', email: b.email })).status).toBe(201);
    expect(await Activity.countDocuments({ entity_id: oid(b.customerId), action: 'delete' })).toBe(1);
  });
});
