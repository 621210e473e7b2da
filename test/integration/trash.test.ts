// First: lets the webhook endpoint below point at this machine.
import '../helpers/env/webhooks-private';
import type http from 'node:http';
import { beforeAll, describe, expect, it } from '@jest/globals';
import mongoose from 'mongoose';
import request from 'supertest';
import { config } from '../../src/config/env';
import { Activity } from '../../src/models/activity.model';
import { Customer } from '../../src/models/customer.model';
import { Interaction } from '../../src/models/interaction.model';
import { OutboxMessage } from '../../src/models/outbox.model';
import { Ticket } from '../../src/models/ticket.model';
import { Deletion, TrashItem } from '../../src/models/trash.model';
import { purgeExpiredTrash } from '../../src/services/trash-admin.service';
import { trashRecords } from '../../src/services/trash.service';
import { buildTestApp } from '../helpers/app';
import { createActors, createStaff, uniqueEmail, type Actors } from '../helpers/auth';
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
    const report = await get(`/analytics/customers?group_by=company&from=${new Date().getUTCFullYear()}-01-01`);
    expect(report.status).toBe(200);
    expect(JSON.stringify(report.body)).not.toContain('Bin Corp');
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
    const reportAfter = await get(`/analytics/customers?group_by=company&from=${new Date().getUTCFullYear()}-01-01`);
    expect(JSON.stringify(reportAfter.body)).toContain('Bin Corp');
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

describe("a trashed customer's e-mail stays taken", () => {
  async function trashedCustomer() {
    const { customerId, email } = await customerWithWork(0, 'Held Email');
    expect((await del(`/customers/${customerId}`)).status).toBe(200);
    return { customerId, email, deletionId: await latestDeletion(customerId) };
  }

  it('POST /customers answers 409 naming the trashed customer and its deletion; nothing is created', async () => {
    const { customerId, email, deletionId } = await trashedCustomer();
    const res = await post('/customers', { name: 'Copy', email: email.toUpperCase() });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('DUPLICATE');
    expect(res.body.error).toContain(customerId);
    expect(res.body.error).toContain(deletionId);
    expect(res.body.error).toContain('restore it instead');
    expect(res.body.details).toEqual([
      { location: 'body', field: 'email', message: 'held by a customer in the trash', existing_id: customerId },
    ]);
    expect(await Customer.countDocuments({ email })).toBe(0);
    // Restoring it is what works.
    expect((await post(`/trash/${deletionId}/restore`)).status).toBe(200);
    expect((await get(`/customers/${customerId}`)).body.email).toBe(email);
  });

  it('POST /customer/signup answers 409 without naming any record', async () => {
    const { email } = await trashedCustomer();
    const res = await request(app).post('/customer/signup').send({ name: 'Self', email, password: 'correct horse battery' });
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('A customer with this e-mail already exists');
    expect(JSON.stringify(res.body)).not.toMatch(/[0-9a-f]{24}/);
    expect(await Customer.countDocuments({ email })).toBe(0);
  });

  it('PATCH /customers/:cust_id to that e-mail answers 409 and keeps the old e-mail', async () => {
    const { customerId, email } = await trashedCustomer();
    const other = await post('/customers', { name: 'Other', email: uniqueEmail('other') });
    const res = await request(app).patch(`/customers/${other.body.id}`).set(actors.manager.headers).send({ email, name: 'Renamed' });
    expect(res.status).toBe(409);
    expect(res.body.error).toContain(customerId);
    expect(await Customer.findById(other.body.id).lean()).toMatchObject({ email: other.body.email, name: 'Other' });
  });

  it.each(['insert', 'upsert'])('an import (mode=%s) reports the row naming the trashed record and does not insert it', async (mode) => {
    const { customerId, email, deletionId } = await trashedCustomer();
    const fresh = uniqueEmail('fresh');
    const csv = `Name,E-mail\nHeld,${email}\nFresh,${fresh}\n`;
    const res = await request(app)
      .post(`/import/customer_data?mode=${mode}`)
      .set(actors.manager.headers)
      .set('Content-Type', 'text/csv')
      .send(csv);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ total: 2, inserted: 1, failed: 1 });
    expect(res.body.errors).toEqual([{ row: 1, field: 'email', message: expect.stringContaining(deletionId) }]);
    expect(res.body.errors[0].message).toContain(customerId);
    expect(await Customer.countDocuments({ email })).toBe(0);
    expect(await Customer.countDocuments({ email: fresh })).toBe(1);
  });
});

describe('GET /trash: filters and paging', () => {
  it('filters by who deleted, entity and time, and pages with keyset cursors without repeating a row', async () => {
    const customer = await post('/customers', { name: 'Filter Me', email: uniqueEmail('filter') });
    const mine: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const created = await post('/interactions', { customer_id: customer.body.id, type: 'note' }, 'otherUser');
      expect(created.status).toBe(201);
      expect((await del(`/interactions/${created.body.id}`, 'otherUser')).status).toBe(200);
      mine.push(created.body.id);
    }
    const base = `/trash?deleted_by=${actors.otherUser.id}`;
    const first = await get(`${base}&limit=2`);
    expect(first.status).toBe(200);
    expect(first.headers['x-total-count']).toBe('3');
    expect(first.body).toHaveLength(2);
    const next = /<([^>]+)>; rel="next"/.exec(first.headers.link ?? '')?.[1];
    expect(next).toContain('after=');
    const second = await get(next!);
    expect(second.body).toHaveLength(1);
    const seen = [...first.body, ...second.body].map((d: { record_id: string }) => d.record_id);
    // Newest first: the last deleted comes first.
    expect(seen).toEqual([...mine].reverse());
    expect((await get(`${base}&entity=customer`)).body).toEqual([]);
    expect((await get(`${base}&entity=interaction&sort=deleted_at`)).body.map((d: { record_id: string }) => d.record_id)).toEqual(mine);
    expect((await get(`${base}&from=2100-01-01`)).body).toEqual([]);
    expect((await get(`${base}&to=2000-01-01`)).body).toEqual([]);
  });

  it('answers 400 for a bad filter, cursor or deletion id, and 404 for an unknown deletion', async () => {
    expect((await get('/trash?entity=user')).status).toBe(400);
    expect((await get('/trash?deleted_by=nope')).status).toBe(400);
    expect((await get('/trash?from=2024-02-01&to=2024-01-01')).status).toBe(400);
    expect((await get('/trash?after=garbage')).body.code).toBe('VALIDATION_ERROR');
    expect((await get('/trash/not-a-uuid')).status).toBe(400);
    const unknown = '3b241101-e2bb-4255-8caf-4136c566a962';
    expect((await get(`/trash/${unknown}`)).status).toBe(404);
    expect((await post(`/trash/${unknown}/restore`)).status).toBe(404);
    expect((await del(`/trash/${unknown}`, 'admin')).status).toBe(404);
  });
});

describe('webhook events', () => {
  it('publishes customer.deleted on the deletion and customer.restored on the restore', async () => {
    const endpoint = await post(
      '/webhooks',
      { url: 'http://127.0.0.1:9/hook', events: ['customer.deleted', 'customer.restored'] },
      'admin',
    );
    expect(endpoint.status).toBe(201);
    const { customerId } = await customerWithWork(0);
    expect((await del(`/customers/${customerId}`)).status).toBe(200);
    const deletionId = await latestDeletion(customerId);
    expect((await post(`/trash/${deletionId}/restore`)).status).toBe(200);
    const events = await OutboxMessage.find({ endpoint: oid(endpoint.body.id) }).lean();
    const about = events.filter((e) => String(e.payload).includes(customerId)).map((e) => e.event);
    expect(about.sort()).toEqual(['customer.deleted', 'customer.restored']);
    expect((await request(app).delete(`/webhooks/${endpoint.body.id}`).set(actors.admin.headers)).status).toBe(200);
  });
});

describe('interrupted steps (the order used where the engine has no transactions)', () => {
  it('completes a restore interrupted after the live insert: nothing is inserted twice, the trash is emptied', async () => {
    const { customerId, interactions } = await customerWithWork(1);
    expect((await del(`/customers/${customerId}?cascade=true`)).status).toBe(200);
    const deletionId = await latestDeletion(customerId);
    // As if a restore stopped after putting the customer back, before its interactions and the trash clean-up.
    const item = await TrashItem.findOne({ deletion_id: deletionId, entity: 'customer' }).lean();
    await Customer.collection.insertOne(item!.record);
    const res = await post(`/trash/${deletionId}/restore`);
    expect(res.status).toBe(200);
    expect(await Customer.countDocuments({ _id: oid(customerId) })).toBe(1);
    expect(await Interaction.countDocuments({ _id: oid(interactions[0]!) })).toBe(1);
    expect(await TrashItem.countDocuments({ deletion_id: deletionId })).toBe(0);
  });

  it('a deletion of a record that a concurrent deletion already trashed fails and leaves no empty deletion behind', async () => {
    const { customerId } = await customerWithWork(0);
    const record = await Customer.findById(customerId).select('+password_hash +search_terms +company_key').lean();
    expect((await del(`/customers/${customerId}`)).status).toBe(200);
    // The slower of two requests that both read the customer while it was live.
    const late = trashRecords({
      customers: [record!],
      root: { entity: 'customer', record_id: customerId },
      reason: 'delete',
      principal: { type: 'user', id: actors.admin.id, role: 'ADMIN' },
    });
    await expect(late).rejects.toMatchObject({ status: 404 });
    expect(await Deletion.countDocuments({ record_id: oid(customerId) })).toBe(1);
    expect(await TrashItem.countDocuments({ record_id: oid(customerId) })).toBe(1);
  });

  it('a record left both live and in the trash by an interrupted deletion can be deleted again', async () => {
    const { customerId } = await customerWithWork(0);
    expect((await del(`/customers/${customerId}`)).status).toBe(200);
    const first = await latestDeletion(customerId);
    // As if the deletion stopped after writing its trash item, before the live delete.
    const item = await TrashItem.findOne({ deletion_id: first }).lean();
    await Customer.collection.insertOne(item!.record);
    expect((await del(`/customers/${customerId}`)).status).toBe(200);
    expect(await Customer.countDocuments({ _id: oid(customerId) })).toBe(0);
    const items = await TrashItem.find({ record_id: oid(customerId) }).lean();
    expect(items).toHaveLength(1);
    expect(items[0]!.deletion_id).not.toBe(first);
    expect((await post(`/trash/${items[0]!.deletion_id}/restore`)).status).toBe(200);
    expect((await get(`/customers/${customerId}`)).status).toBe(200);
  });
});

describe('DELETE /users/:user_id with records in the trash', () => {
  it('counts the trashed records the user owns (409 without reassign_to) and hands them over with reassign_to', async () => {
    const leaving = await createStaff(app, actors.admin, 'USER', 'leaving');
    const created = await post('/customers', { name: 'Owned', email: uniqueEmail('owned'), owner_id: leaving.id });
    expect((await del(`/customers/${created.body.id}`)).status).toBe(200);
    const refused = await del(`/users/${leaving.id}`, 'admin');
    expect(refused.status).toBe(409);
    expect(refused.body.details).toEqual([{ field: 'trashed', message: '1 owned' }]);
    expect((await del(`/users/${leaving.id}?reassign_to=${actors.manager.id}`, 'admin')).status).toBe(200);
    const item = await TrashItem.findOne({ record_id: oid(created.body.id) }).lean();
    expect(String(item!.record.owner)).toBe(actors.manager.id);
    expect((await post(`/trash/${item!.deletion_id}/restore`)).status).toBe(200);
    expect((await get(`/customers/${created.body.id}`)).body.owner_id).toBe(actors.manager.id);
  });
});
