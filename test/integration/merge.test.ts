import '../helpers/env/webhooks-private';
import { beforeAll, describe, expect, it } from '@jest/globals';
import mongoose from 'mongoose';
import request from 'supertest';
import { Activity } from '../../src/models/activity.model';
import { Customer } from '../../src/models/customer.model';
import { Interaction } from '../../src/models/interaction.model';
import { Merge } from '../../src/models/merge.model';
import { Notification } from '../../src/models/notification.model';
import { OutboxMessage } from '../../src/models/outbox.model';
import { Deletion } from '../../src/models/trash.model';
import { buildTestApp } from '../helpers/app';
import { createActors, uniqueEmail, type Actors } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';

// POST /customers/:id/merge, GET /merges/:merge_id (SPEC §8, issue 20): through HTTP against the real database.

useTestDatabase();
const app = buildTestApp();
let actors: Actors;
beforeAll(async () => {
  actors = await createActors(app);
});

const oid = (id: string) => new mongoose.Types.ObjectId(id);
const sorted = (ids: string[]) => [...ids].sort();

async function createCustomer(fields: Record<string, unknown> = {}): Promise<string> {
  const res = await request(app)
    .post('/customers')
    .set(actors.manager.headers)
    .send({ name: 'Dup', email: uniqueEmail('dup'), ...fields });
  expect(res.status).toBe(201);
  return res.body.id;
}

/** A meeting (which notifies the customer in-app) with one ticket on it. */
async function meetingWithTicket(customer: string): Promise<{ interaction: string; ticket: string }> {
  const meeting = await request(app).post(`/users/meetings/${customer}`).set(actors.user.headers).send({ title: 'Kick-off' });
  expect(meeting.status).toBe(201);
  const interaction: string = meeting.body.InsertedID;
  const ticket = await request(app)
    .post(`/customers/ticket/${interaction}`)
    .set(actors.user.headers)
    .send({ title: 'Invoice', description: 'Twice' });
  expect(ticket.status).toBe(201);
  return { interaction, ticket: ticket.body.id };
}

const merge = (target: string, body: object, as: Actors[keyof Actors] = actors.manager) =>
  request(app).post(`/customers/${target}/merge`).set(as.headers).send(body);

async function customersTotal(): Promise<number> {
  const res = await request(app).get('/analytics/overview').set(actors.admin.headers);
  expect(res.status).toBe(200);
  return res.body.customers.total;
}

describe('POST /customers/:cust_id/merge', () => {
  it('moves interactions, tickets, notifications and timeline entries to the target and trashes the sources', async () => {
    const target = await createCustomer({ company: 'TATA', tags: ['a'] });
    const first = await createCustomer({ phone: '+91 111', address: { city: 'Pune' }, tags: ['b'] });
    const second = await createCustomer({ company: 'Other', phone: '+91 222', status: 'active', tags: ['a', 'c'] });
    const [m1, m2, m3] = [await meetingWithTicket(first), await meetingWithTicket(first), await meetingWithTicket(second)];
    const interactions = [m1.interaction, m2.interaction, m3.interaction];
    const tickets = [m1.ticket, m2.ticket, m3.ticket];
    const notifications = (await Notification.collection.find({ recipient: { $in: [oid(first), oid(second)] } }).toArray()).map((n) =>
      n._id.toHexString(),
    );
    expect(notifications).toHaveLength(3);
    const entries = (await Activity.collection.find({ customer: { $in: [oid(first), oid(second)] } }).toArray()).map((a) =>
      a._id.toHexString(),
    );
    const totalBefore = await customersTotal();
    const interactionsBefore = (await request(app).get('/analytics/overview').set(actors.admin.headers)).body.interactions.total;

    const res = await merge(target, { source_ids: [first, second] });
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/merges/${res.body.merge_id}`);
    expect(res.body).toMatchObject({
      id: res.body.merge_id,
      state: 'done',
      target_id: target,
      source_ids: [first, second],
      deletion_id: expect.any(String),
      tags_added: ['b', 'c'],
      filled: {
        phone: { before: null, after: '+91 111', from: first },
        'address.city': { before: null, after: 'Pune', from: first },
      },
      created_by: { type: 'user', id: actors.manager.id },
      undone_at: null,
      undo: null,
      customer: { id: target, company: 'TATA', phone: '+91 111', status: 'lead', tags: ['a', 'b', 'c'] },
    });
    expect(res.body.customer.address).toEqual({ street: null, city: 'Pune', state: null, postal_code: null, country: null });
    expect(Object.keys(res.body.filled).sort()).toEqual(['address.city', 'phone']);
    expect(sorted(res.body.moved.interactions)).toEqual(sorted(interactions));
    expect(sorted(res.body.moved.tickets)).toEqual(sorted(tickets));
    expect(sorted(res.body.moved.notifications)).toEqual(sorted(notifications));
    expect(sorted(res.body.moved.activities)).toEqual(sorted(entries));

    // The sources are gone; everything they had is the target's.
    for (const source of [first, second]) {
      expect((await request(app).get(`/customers/${source}`).set(actors.manager.headers)).status).toBe(404);
    }
    expect(await Customer.collection.countDocuments({ _id: { $in: [oid(first), oid(second)] } })).toBe(0);
    const listed = await request(app).get(`/interactions/customer/${target}`).set(actors.manager.headers);
    expect(sorted(listed.body.map((i: { id: string }) => i.id))).toEqual(sorted(interactions));
    const ticketList = await request(app).get(`/customers/tickets?customer_id=${target}`).set(actors.manager.headers);
    expect(sorted(ticketList.body.map((t: { id: string }) => t.id))).toEqual(sorted(tickets));
    expect(await Notification.collection.countDocuments({ _id: { $in: notifications.map(oid) }, recipient: oid(target) })).toBe(3);

    const timeline = await request(app).get(`/customers/${target}/activity?limit=100`).set(actors.manager.headers);
    expect(timeline.status).toBe(200);
    const timelineIds = timeline.body.map((e: { id: string }) => e.id);
    expect(timelineIds).toEqual(expect.arrayContaining(entries));
    expect(
      timeline.body.filter((e: { entity: string }) => e.entity === 'interaction').map((e: { entity_id: string }) => e.entity_id),
    ).toEqual(expect.arrayContaining(interactions));
    expect(timeline.body[0]).toMatchObject({
      action: 'merge',
      entity: 'customer',
      entity_id: target,
      fields: ['address.city', 'phone', 'tags'],
    });

    // Counters follow: two customers fewer, the same interactions.
    expect(await customersTotal()).toBe(totalBefore - 2);
    expect((await request(app).get('/analytics/overview').set(actors.admin.headers)).body.interactions.total).toBe(interactionsBefore);

    const stored = await Customer.findById(target).select('+search_terms +company_key').lean();
    expect(stored).toMatchObject({ phone: '+91 111', company_key: 'tata', tags: ['a', 'b', 'c'] });

    // One deletion in the trash, marked as the merge's; it comes back only through the undo, and it holds the e-mails.
    const deletion = await request(app).get(`/trash/${res.body.deletion_id}`).set(actors.manager.headers);
    expect(deletion.status).toBe(200);
    expect(deletion.body).toMatchObject({ reason: 'merge', merged_into: target, merge_id: res.body.merge_id, counts: { customers: 2 } });
    const restore = await request(app).post(`/trash/${res.body.deletion_id}/restore`).set(actors.manager.headers);
    expect(restore.status).toBe(409);
    expect(restore.body.code).toBe('MERGE_DELETION');
    const sourceEmail = (await request(app).get(`/trash/${res.body.deletion_id}`).set(actors.manager.headers)).body.summary.email;
    const taken = await request(app).post('/customers').set(actors.manager.headers).send({ name: 'Again', email: sourceEmail });
    expect(taken.status).toBe(409);

    const read = await request(app).get(`/merges/${res.body.merge_id}`).set(actors.admin.headers);
    expect(read.status).toBe(200);
    const { customer: _customer, ...view } = res.body;
    expect(read.body).toEqual(view);
  });

  it('takes a preferred source value over the target value for that field only', async () => {
    const target = await createCustomer({ company: 'Keep', phone: '+91 000', status: 'lead' });
    const first = await createCustomer({ company: 'First', phone: '+91 111' });
    const second = await createCustomer({
      company: 'Second',
      phone: '+91 222',
      status: 'active',
      address: { street: 'Main 1', city: 'Goa' },
    });
    const res = await merge(target, {
      source_ids: [first, second],
      prefer: { phone: second, status: second, address: second, name: first },
    });
    expect(res.status).toBe(201);
    expect(res.body.customer).toMatchObject({ company: 'Keep', phone: '+91 222', status: 'active', name: 'Dup' });
    expect(res.body.customer.address).toMatchObject({ street: 'Main 1', city: 'Goa' });
    expect(res.body.filled).toEqual({
      phone: { before: '+91 000', after: '+91 222', from: second },
      status: { before: 'lead', after: 'active', from: second },
      'address.street': { before: null, after: 'Main 1', from: second },
      'address.city': { before: null, after: 'Goa', from: second },
    });
  });

  it('answers 404 for an unknown target and leaves the sources alone', async () => {
    const unknown = new mongoose.Types.ObjectId().toHexString();
    const source = await createCustomer();
    const res = await merge(unknown, { source_ids: [source] });
    expect(res.status).toBe(404);
    expect(await Customer.exists({ _id: source })).not.toBeNull();
  });

  it('refuses bad bodies with 400 and changes nothing', async () => {
    const target = await createCustomer();
    const source = await createCustomer();
    const unknown = new mongoose.Types.ObjectId().toHexString();
    const cases: [object, string][] = [
      [{ source_ids: [target] }, 'source_ids.0'],
      [{ source_ids: [source, source] }, 'source_ids.1'],
      [{ source_ids: [source, unknown] }, 'source_ids.1'],
      [{ source_ids: [] }, 'source_ids'],
      [{ source_ids: Array.from({ length: 11 }, () => new mongoose.Types.ObjectId().toHexString()) }, 'source_ids'],
      [{ source_ids: [source], prefer: { phone: unknown } }, 'prefer.phone'],
      [{ source_ids: [source], prefer: { email: source } }, 'prefer.email'],
      [{ source_ids: ['nope'] }, 'source_ids.0'],
    ];
    for (const [body, field] of cases) {
      const res = await merge(target, body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
    }
    expect(await Customer.collection.countDocuments({ _id: { $in: [oid(target), oid(source)] } })).toBe(2);
  });
});

describe('concurrent merges and undos', () => {
  it('lets one of two merges of the same source win; the other moves nothing', async () => {
    const [first, second, source] = [await createCustomer(), await createCustomer(), await createCustomer()];
    const moved = [await meetingWithTicket(source), await meetingWithTicket(source)].map((m) => m.interaction);
    const answers = await Promise.all([merge(first, { source_ids: [source] }), merge(second, { source_ids: [source] })]);
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses[0]).toBe(201);
    expect([400, 409]).toContain(statuses[1]);
    const winner = answers.find((a) => a.status === 201)?.body;
    expect(await Merge.collection.countDocuments({ sources: oid(source) })).toBe(1);
    const owners = await Interaction.collection.find({ _id: { $in: moved.map(oid) } }).toArray();
    expect(owners.map((i) => i.customer.toHexString())).toEqual([winner.target_id, winner.target_id]);

    const undos = await Promise.all([
      request(app).post(`/merges/${winner.merge_id}/undo`).set(actors.admin.headers),
      request(app).post(`/merges/${winner.merge_id}/undo`).set(actors.manager.headers),
    ]);
    expect(undos.map((u) => u.status).sort()).toEqual([200, 409]);
    const after = await Interaction.collection.find({ _id: { $in: moved.map(oid) } }).toArray();
    expect(after.map((i) => i.customer.toHexString())).toEqual([source, source]);
  });
});

describe('customer.merged webhook event', () => {
  it('queues the merge record and the target for endpoints subscribed to customer.merged', async () => {
    const hook = await request(app)
      .post('/webhooks')
      .set(actors.admin.headers)
      .send({ url: 'http://127.0.0.1:9/hooks', events: ['customer.merged'] });
    expect(hook.status).toBe(201);
    const target = await createCustomer();
    const res = await merge(target, { source_ids: [await createCustomer()] });
    expect(res.status).toBe(201);
    const deliveries = await OutboxMessage.collection.find({ endpoint: oid(hook.body.id) }).toArray();
    expect(deliveries.map((d) => d.event)).toEqual(['customer.merged']);
    const payload = JSON.parse(String(deliveries[0]?.payload));
    expect(payload).toMatchObject({ type: 'customer.merged', data: { object: { merge_id: res.body.merge_id, customer: { id: target } } } });
    expect((await request(app).delete(`/webhooks/${hook.body.id}`).set(actors.admin.headers)).status).toBe(200);
  });
});

describe('GET /merges/:merge_id', () => {
  it('answers 400 for a malformed id and 404 for an unknown one', async () => {
    expect((await request(app).get('/merges/nope').set(actors.admin.headers)).status).toBe(400);
    expect((await request(app).get('/merges/0b6c2f6e-3c1b-4a55-9d2e-8f61c4d0a7b3').set(actors.admin.headers)).status).toBe(404);
  });
});

describe('POST /merges/:merge_id/undo', () => {
  const undo = (mergeId: string, as: Actors[keyof Actors] = actors.admin) => request(app).post(`/merges/${mergeId}/undo`).set(as.headers);

  it('restores the sources with their ids and moves back everything the merge moved; a second undo answers 409', async () => {
    const target = await createCustomer({ tags: ['a'] });
    const sourceEmail = uniqueEmail('source');
    const source = await createCustomer({ email: sourceEmail, phone: '+91 333', tags: ['b'] });
    const moved = [await meetingWithTicket(source), await meetingWithTicket(source)];
    const entries = (await Activity.collection.find({ customer: oid(source) }).toArray()).map((a) => a._id.toHexString());
    const totalBefore = await customersTotal();
    const merged = await merge(target, { source_ids: [source] });
    expect(merged.status).toBe(201);
    expect(await customersTotal()).toBe(totalBefore - 1);

    const res = await undo(merged.body.merge_id);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      merge_id: merged.body.merge_id,
      state: 'undone',
      undone_at: expect.any(String),
      undo: { by: { type: 'user', id: actors.admin.id }, conflicts: [] },
      customer: { id: target, phone: null, tags: ['a'] },
    });
    const restored = await request(app).get(`/customers/${source}`).set(actors.manager.headers);
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({ id: source, email: sourceEmail, phone: '+91 333', tags: ['b'] });
    const interactions = await request(app).get(`/interactions/customer/${source}`).set(actors.manager.headers);
    expect(sorted(interactions.body.map((i: { id: string }) => i.id))).toEqual(sorted(moved.map((m) => m.interaction)));
    expect((await request(app).get(`/interactions/customer/${target}`).set(actors.manager.headers)).body).toEqual([]);
    const tickets = await request(app).get(`/customers/tickets?customer_id=${source}`).set(actors.manager.headers);
    expect(sorted(tickets.body.map((t: { id: string }) => t.id))).toEqual(sorted(moved.map((m) => m.ticket)));
    expect(
      await Notification.collection.countDocuments({ _id: { $in: merged.body.moved.notifications.map(oid) }, recipient: oid(source) }),
    ).toBe(2);
    const back = await Activity.collection.countDocuments({ _id: { $in: entries.map(oid) }, customer: oid(source) });
    expect(back).toBe(entries.length);
    expect(await customersTotal()).toBe(totalBefore);
    const timeline = await request(app).get(`/customers/${target}/activity`).set(actors.manager.headers);
    expect(timeline.body[0]).toMatchObject({ action: 'unmerge', entity_id: target, fields: ['phone', 'tags'] });

    const again = await undo(merged.body.merge_id, actors.manager);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('ALREADY_UNDONE');
    expect((await request(app).get(`/merges/${merged.body.merge_id}`).set(actors.manager.headers)).body.state).toBe('undone');
  });

  it('leaves what changed since the merge and lists it as conflicts, undoing the rest', async () => {
    const target = await createCustomer();
    const other = await createCustomer();
    const source = await createCustomer({ phone: '+91 444', tags: ['x'] });
    const meeting = async (title: string): Promise<string> =>
      (await request(app).post(`/users/meetings/${source}`).set(actors.user.headers).send({ title })).body.InsertedID;
    const [deleted, repointed, kept] = [await meeting('Deleted'), await meeting('Re-pointed'), await meeting('Kept')];
    const merged = await merge(target, { source_ids: [source] });
    expect(merged.status).toBe(201);
    expect((await request(app).delete(`/interactions/${deleted}`).set(actors.manager.headers)).status).toBe(200);
    await Interaction.collection.updateOne({ _id: oid(repointed) }, { $set: { customer: oid(other) } });
    expect((await request(app).patch(`/customers/${target}`).set(actors.manager.headers).send({ phone: '+91 555' })).status).toBe(200);

    const res = await undo(merged.body.merge_id);
    expect(res.status).toBe(200);
    expect(res.body.undo.conflicts).toEqual(
      expect.arrayContaining([
        { kind: 'interactions', id: deleted, reason: 'deleted since the merge' },
        { kind: 'interactions', id: repointed, reason: 'moved to another customer since the merge' },
        { kind: 'fields', id: 'phone', reason: 'changed since the merge' },
      ]),
    );
    expect(res.body.undo.conflicts.filter((c: { kind: string }) => c.kind !== 'notifications' && c.kind !== 'activities')).toHaveLength(3);
    expect(res.body.customer).toMatchObject({ phone: '+91 555', tags: [] });
    expect((await Interaction.collection.findOne({ _id: oid(kept) }))?.customer).toEqual(oid(source));
    expect((await Interaction.collection.findOne({ _id: oid(repointed) }))?.customer).toEqual(oid(other));
    expect((await request(app).get(`/customers/${source}`).set(actors.manager.headers)).status).toBe(200);
  });

  it('answers 409 while the target is itself merged away, and 410 once the trash retention has passed', async () => {
    const target = await createCustomer();
    const source = await createCustomer();
    const first = await merge(target, { source_ids: [source] });
    const outer = await createCustomer();
    const second = await merge(outer, { source_ids: [target] });
    expect(second.status).toBe(201);
    const blocked = await undo(first.body.merge_id);
    expect(blocked.status).toBe(409);
    expect(blocked.body.code).toBe('TARGET_GONE');
    expect((await undo(second.body.merge_id)).status).toBe(200);
    expect((await undo(first.body.merge_id)).status).toBe(200);

    const late = await merge(await createCustomer(), { source_ids: [await createCustomer()] });
    const longAgo = new Date(Date.now() - 31 * 86_400_000);
    await Deletion.collection.updateOne({ _id: late.body.deletion_id }, { $set: { deleted_at: longAgo } });
    const expired = await undo(late.body.merge_id);
    expect(expired.status).toBe(410);
    expect(expired.body.code).toBe('MERGE_EXPIRED');
    expect((await request(app).get(`/merges/${late.body.merge_id}`).set(actors.manager.headers)).body.state).toBe('done');
  });
});
