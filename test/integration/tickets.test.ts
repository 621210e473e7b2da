import { beforeAll, describe, expect, it } from '@jest/globals';
import mongoose from 'mongoose';
import request from 'supertest';
import { Activity } from '../../src/models/activity.model';
import { Notification } from '../../src/models/notification.model';
import { OutboxMessage } from '../../src/models/outbox.model';
import { Ticket, ticketStatuses, ticketTransitions, ticketView, type TicketRecord, type TicketStatus } from '../../src/models/ticket.model';
import type { Principal } from '../../src/utils/principal';
import { buildTestApp } from '../helpers/app';
import { createActors, type Actors } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';
import { insertInteraction, insertTicket } from '../factories/interaction';

useTestDatabase();
const app = buildTestApp();
let actors: Actors;
const unknownId = '0123456789abcdef01234567';
const oid = (id: string) => new mongoose.Types.ObjectId(id);

beforeAll(async () => {
  actors = await createActors(app);
});

const adminPrincipal = (): Principal => ({ type: 'user', id: actors.admin.id, role: 'ADMIN' });
const customerPrincipal = (id: string): Principal => ({ type: 'customer', id, role: 'CUSTOMER' });

/** An interaction of `user` with `customer`, and a ticket on it raised by the customer. */
async function ticketOf(customer = actors.customer.id, user = actors.user.id) {
  const interaction = await insertInteraction({ customer, user });
  const ticket = await insertTicket(interaction._id.toHexString(), customerPrincipal(customer));
  return { interaction, ticket, id: ticket._id.toHexString() };
}

async function setStatus(id: string, status: TicketStatus) {
  await Ticket.updateOne({ _id: oid(id) }, { $set: { status } });
}

describe('POST /customers/ticket/:interaction_id', () => {
  it("lets a customer raise a ticket on its own interaction: the interaction's customer, assigned to its owner", async () => {
    const interaction = await insertInteraction({ customer: actors.customer.id, user: actors.user.id });
    const res = await request(app)
      .post(`/customers/ticket/${interaction._id.toHexString()}`)
      .set(actors.customer.headers)
      .set('Content-Type', 'multipart/form-data')
      .send('{"Title": "Invoice is wrong", "Description": "Charged twice"}');
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/customers/tickets/${res.body.id}`);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{24}$/),
      ticket_id: res.body.id,
      interaction_id: interaction._id.toHexString(),
      customer_id: actors.customer.id,
      title: 'Invoice is wrong',
      description: 'Charged twice',
      status: 'open',
      priority: 'medium',
      assigned_to: actors.user.id,
      created_by: { type: 'customer', id: actors.customer.id },
      resolved_at: null,
      resolution_seconds: null,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    const stored = await Ticket.findById(res.body.id).lean();
    expect(stored).toMatchObject({
      customer: oid(actors.customer.id),
      interaction_user: oid(actors.user.id),
      created_day: res.body.created_at.slice(0, 10),
    });
  });

  it('lets staff choose priority and assignee, and refuses an assignee from a customer (403) or who does not exist (400)', async () => {
    const interaction = await insertInteraction({ customer: actors.customer.id, user: actors.user.id });
    const path = `/customers/ticket/${interaction._id.toHexString()}`;
    const staff = await request(app)
      .post(path)
      .set(actors.user.headers)
      .send({ title: 'Escalate', priority: 'urgent', assigned_to: actors.manager.id });
    expect(staff.status).toBe(201);
    expect(staff.body).toMatchObject({
      priority: 'urgent',
      assigned_to: actors.manager.id,
      created_by: { type: 'user', id: actors.user.id },
    });
    expect((await request(app).post(path).set(actors.customer.headers).send({ title: 'x', assigned_to: actors.manager.id })).status).toBe(
      403,
    );
    const unknown = await request(app).post(path).set(actors.manager.headers).send({ title: 'x', assigned_to: unknownId });
    expect(unknown.status).toBe(400);
    expect(unknown.body.details).toEqual([expect.objectContaining({ field: 'assigned_to' })]);
    const missing = await request(app).post(path).set(actors.manager.headers).send({ priority: 'low' });
    expect(missing.status).toBe(400);
    expect(missing.body.details).toEqual([expect.objectContaining({ field: 'title' })]);
    expect(await Ticket.countDocuments({ interaction: interaction._id })).toBe(1);
  });

  it("answers 404 for another customer's or another USER's interaction and for an unknown one", async () => {
    const interaction = await insertInteraction({ customer: actors.customer.id, user: actors.user.id });
    const path = `/customers/ticket/${interaction._id.toHexString()}`;
    expect((await request(app).post(path).set(actors.otherCustomer.headers).send({ title: 'mine?' })).status).toBe(404);
    expect((await request(app).post(path).set(actors.otherUser.headers).send({ title: 'mine?' })).status).toBe(404);
    expect((await request(app).post(`/customers/ticket/${unknownId}`).set(actors.admin.headers).send({ title: 'x' })).status).toBe(404);
    expect(await Ticket.countDocuments({ interaction: interaction._id })).toBe(0);
  });
});

describe("customer A and customer B's interactions and tickets", () => {
  it("customer B can neither read customer A's interaction, list it, nor raise a ticket on it (404)", async () => {
    const interaction = await insertInteraction({ customer: actors.customer.id, user: actors.user.id });
    const id = interaction._id.toHexString();
    expect((await request(app).get(`/interactions/${id}`).set(actors.otherCustomer.headers)).status).toBe(404);
    expect((await request(app).get(`/interactions/customer/${actors.customer.id}`).set(actors.otherCustomer.headers)).status).toBe(404);
    expect((await request(app).post(`/customers/ticket/${id}`).set(actors.otherCustomer.headers).send({ title: 'not mine' })).status).toBe(
      404,
    );
    const own = await request(app).get('/interactions').set(actors.otherCustomer.headers);
    expect(own.body.map((row: { id: string }) => row.id)).not.toContain(id);
    expect(await Ticket.countDocuments({ interaction: interaction._id })).toBe(0);
  });

  it("customer B can neither read, change, delete nor list customer A's ticket (404)", async () => {
    const { id } = await ticketOf();
    expect((await request(app).get(`/customers/tickets/${id}`).set(actors.otherCustomer.headers)).status).toBe(404);
    expect((await request(app).patch(`/customers/ticket/${id}`).set(actors.otherCustomer.headers).send({ title: 'hijacked' })).status).toBe(
      404,
    );
    expect((await request(app).patch(`/customers/ticket/${id}`).set(actors.otherCustomer.headers).send({ status: 'closed' })).status).toBe(
      404,
    );
    expect((await request(app).delete(`/customers/ticket/${id}`).set(actors.otherCustomer.headers)).status).toBe(404);
    const list = await request(app).get('/customers/tickets').set(actors.otherCustomer.headers);
    expect(list.body.map((t: { id: string }) => t.id)).not.toContain(id);
    expect(await Ticket.findById(id).lean()).toMatchObject({ title: 'Factory ticket', status: 'open' });
  });
});

describe('PATCH /customers/ticket/:ticket_id by a customer', () => {
  it('edits the text of its own open ticket, and closes it', async () => {
    const { id } = await ticketOf();
    const edited = await request(app)
      .patch(`/customers/ticket/${id}`)
      .set(actors.customer.headers)
      .send({ title: 'Better title', description: null });
    expect(edited.status).toBe(200);
    expect(edited.body).toEqual({
      message: 'Ticket updated successfully',
      ticket: expect.objectContaining({ title: 'Better title', description: null }),
    });
    const closed = await request(app).patch(`/customers/ticket/${id}`).set(actors.customer.headers).send({ status: 'closed' });
    expect(closed.status).toBe(200);
    expect(await Ticket.findById(id).lean()).toMatchObject({ title: 'Better title', status: 'closed' });
  });

  it('may not edit text once work started (409), nor change priority, assignee or move it elsewhere (403)', async () => {
    const { id } = await ticketOf();
    await setStatus(id, 'in_progress');
    const text = await request(app).patch(`/customers/ticket/${id}`).set(actors.customer.headers).send({ title: 'late edit' });
    expect(text.status).toBe(409);
    expect(text.body.code).toBe('TICKET_NOT_OPEN');
    for (const body of [{ priority: 'urgent' }, { assigned_to: actors.manager.id }, { status: 'resolved' }]) {
      expect((await request(app).patch(`/customers/ticket/${id}`).set(actors.customer.headers).send(body)).status).toBe(403);
    }
    expect(await Ticket.findById(id).lean()).toMatchObject({ title: 'Factory ticket', status: 'in_progress', priority: 'medium' });
  });
});

describe('PATCH /customers/ticket/:ticket_id by staff', () => {
  it('lets the assigned USER change status, priority and assignee; another visible ticket is 403, an invisible one 404', async () => {
    const { id } = await ticketOf();
    const moved = await request(app)
      .patch(`/customers/ticket/${id}`)
      .set(actors.user.headers)
      .send({ status: 'in_progress', priority: 'high' });
    expect(moved.status).toBe(200);
    expect(moved.body.ticket).toMatchObject({ status: 'in_progress', priority: 'high' });
    expect((await request(app).patch(`/customers/ticket/${id}`).set(actors.otherUser.headers).send({ priority: 'low' })).status).toBe(404);

    // Handed to the manager: still visible to the user (raised on its interaction) but no longer its to change.
    expect(
      (await request(app).patch(`/customers/ticket/${id}`).set(actors.user.headers).send({ assigned_to: actors.manager.id })).status,
    ).toBe(200);
    expect((await request(app).get(`/customers/tickets/${id}`).set(actors.user.headers)).status).toBe(200);
    expect((await request(app).patch(`/customers/ticket/${id}`).set(actors.user.headers).send({ priority: 'low' })).status).toBe(403);
    expect(await Ticket.findById(id).lean()).toMatchObject({ priority: 'high', assigned_to: oid(actors.manager.id) });
  });

  it('resolving stores resolved_at and the resolution time; reopening clears them; closing keeps them', async () => {
    const { id } = await ticketOf();
    // Raised an hour ago (the raw collection: Mongoose keeps created_at immutable).
    await Ticket.collection.updateOne({ _id: oid(id) }, { $set: { status: 'in_progress', created_at: new Date(Date.now() - 3_600_000) } });
    const resolved = await request(app).patch(`/customers/ticket/${id}`).set(actors.manager.headers).send({ status: 'resolved' });
    expect(resolved.status).toBe(200);
    expect(resolved.body.ticket.resolved_at).toEqual(expect.any(String));
    expect(resolved.body.ticket.resolution_seconds).toBeGreaterThanOrEqual(3600);
    expect(resolved.body.ticket.resolution_seconds).toBeLessThan(3700);
    const today = resolved.body.ticket.resolved_at.slice(0, 10);
    expect(await Ticket.findById(id).lean()).toMatchObject({
      resolved_day: today,
      resolved_month: today.slice(0, 7),
      resolved_week: expect.stringMatching(/^\d{4}-W\d{2}$/),
    });

    const reopened = await request(app).patch(`/customers/ticket/${id}`).set(actors.manager.headers).send({ status: 'open' });
    expect(reopened.body.ticket).toMatchObject({ status: 'open', resolved_at: null, resolution_seconds: null });
    expect(await Ticket.findById(id).lean()).toMatchObject({ resolved_day: null, resolved_week: null, resolved_month: null });

    await setStatus(id, 'in_progress');
    await request(app).patch(`/customers/ticket/${id}`).set(actors.manager.headers).send({ status: 'resolved' });
    const closed = await request(app).patch(`/customers/ticket/${id}`).set(actors.manager.headers).send({ status: 'closed' });
    expect(closed.body.ticket).toMatchObject({ status: 'closed', resolved_at: expect.any(String) });
  });
});

describe('ticket status moves', () => {
  const moves = ticketStatuses.flatMap((from) => ticketStatuses.filter((to) => to !== from).map((to) => [from, to] as const));
  const allowed = new Set([
    'open>in_progress',
    'open>closed',
    'in_progress>resolved',
    'in_progress>closed',
    'resolved>closed',
    'resolved>open',
  ]);

  it('allows exactly the documented lifecycle', () => {
    expect(new Set(moves.filter(([from, to]) => ticketTransitions[from].includes(to)).map(([from, to]) => `${from}>${to}`))).toEqual(
      allowed,
    );
  });

  it.each(moves)('%s → %s', async (from, to) => {
    const { id } = await ticketOf();
    await setStatus(id, from);
    const res = await request(app).patch(`/customers/ticket/${id}`).set(actors.manager.headers).send({ status: to });
    if (allowed.has(`${from}>${to}`)) {
      expect(res.status).toBe(200);
      expect((await Ticket.findById(id).lean())?.status).toBe(to);
    } else {
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('INVALID_STATUS_TRANSITION');
      expect(res.body.details.map((d: { message: string }) => d.message)).toEqual(ticketTransitions[from]);
      expect((await Ticket.findById(id).lean())?.status).toBe(from);
    }
  });

  it.each(['open', 'in_progress', 'resolved'] as const)('lets a customer close its own %s ticket', async (from) => {
    const { id } = await ticketOf();
    await setStatus(id, from);
    expect((await request(app).patch(`/customers/ticket/${id}`).set(actors.customer.headers).send({ status: 'closed' })).status).toBe(200);
    expect((await Ticket.findById(id).lean())?.status).toBe('closed');
  });

  it('treats sending the current status as a no-op, even on a closed ticket', async () => {
    const { id } = await ticketOf();
    await setStatus(id, 'closed');
    const stored = await Ticket.findById(id).lean<TicketRecord>();
    if (!stored) throw new Error('ticket not stored');
    const side = async () => ({
      outbox: await OutboxMessage.countDocuments(),
      notifications: await Notification.countDocuments({ entity_id: oid(id) }),
      activity: await Activity.countDocuments({ entity_id: oid(id) }),
    });
    const sideBefore = await side();

    const res = await request(app).patch(`/customers/ticket/${id}`).set(actors.manager.headers).send({ status: 'closed' });
    // Not a move (closed → closed would be a 409), and nothing written: the ticket as it was, down to
    // updated_at; no e-mail or in-app notification queued; no trail entry.
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: 'Ticket updated successfully', ticket: JSON.parse(JSON.stringify(ticketView(stored))) });
    expect(await Ticket.findById(id).lean()).toEqual(stored);
    expect(await side()).toEqual(sideBefore);
  });
});

describe('DELETE /customers/ticket/:ticket_id', () => {
  it('lets a customer delete its own ticket while open, and answers 409 afterwards', async () => {
    const open = await ticketOf();
    const res = await request(app).delete(`/customers/ticket/${open.id}`).set(actors.customer.headers);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: 'Ticket deleted successfully' });
    expect(await Ticket.exists({ _id: open.ticket._id })).toBeNull();

    const started = await ticketOf();
    await setStatus(started.id, 'in_progress');
    const refused = await request(app).delete(`/customers/ticket/${started.id}`).set(actors.customer.headers);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('TICKET_NOT_OPEN');
    expect(await Ticket.exists({ _id: started.ticket._id })).not.toBeNull();
  });

  it('refuses a USER (403), even the assignee, and lets a MANAGER delete any ticket', async () => {
    const { id, ticket } = await ticketOf();
    await setStatus(id, 'resolved');
    expect((await request(app).delete(`/customers/ticket/${id}`).set(actors.user.headers)).status).toBe(403);
    expect((await request(app).delete(`/customers/ticket/${id}`).set(actors.manager.headers)).status).toBe(200);
    expect(await Ticket.exists({ _id: ticket._id })).toBeNull();
  });
});

describe('GET /customers/tickets', () => {
  let data: { onOwn: string; assignedToUser: string; elsewhere: string; otherCustomers: string };

  beforeAll(async () => {
    await Ticket.deleteMany({});
    const own = await insertInteraction({ customer: actors.customer.id, user: actors.user.id });
    const others = await insertInteraction({ customer: actors.otherCustomer.id, user: actors.otherUser.id });
    const raise = async (interaction: typeof own, input: Parameters<typeof insertTicket>[2]) =>
      (await insertTicket(interaction._id.toHexString(), adminPrincipal(), input))._id.toHexString();
    data = {
      onOwn: await raise(own, { assigned_to: actors.manager.id, priority: 'high' }),
      assignedToUser: await raise(others, { assigned_to: actors.user.id, priority: 'low' }),
      elsewhere: await raise(others, { priority: 'high' }),
      otherCustomers: await raise(others, { assigned_to: actors.manager.id, priority: 'urgent' }),
    };
    await setStatus(data.elsewhere, 'in_progress');
  });

  const list = async (path: string, headers: { token: string }) => {
    const res = await request(app).get(path).set(headers);
    expect(res.status).toBe(200);
    return (res.body as { id: string }[]).map((t) => t.id).sort();
  };

  it('shows a USER the tickets assigned to it or raised on its interactions, nothing else', async () => {
    expect(await list('/customers/tickets', actors.user.headers)).toEqual([data.onOwn, data.assignedToUser].sort());
  });

  it('shows a customer its own tickets and a MANAGER all of them', async () => {
    expect(await list('/customers/tickets', actors.customer.headers)).toEqual([data.onOwn]);
    expect(await list('/customers/tickets', actors.manager.headers)).toHaveLength(4);
  });

  it('filters by status, priority, assigned_to and customer_id, and pages with headers', async () => {
    expect(await list('/customers/tickets?status=in_progress', actors.manager.headers)).toEqual([data.elsewhere]);
    expect(await list('/customers/tickets?priority=high', actors.manager.headers)).toEqual([data.onOwn, data.elsewhere].sort());
    expect(
      await list(`/customers/tickets?assigned_to=${actors.manager.id}&customer_id=${actors.otherCustomer.id}`, actors.manager.headers),
    ).toEqual([data.otherCustomers]);
    const page = await request(app).get('/customers/tickets?limit=3&sort=created_at').set(actors.manager.headers);
    expect(page.headers['x-total-count']).toBe('4');
    expect(page.body).toHaveLength(3);
    expect(page.headers.link).toContain('rel="next"');
  });

  it('answers 400 for an unknown filter value or parameter', async () => {
    for (const query of ['status=done', 'priority=asap', 'assigned_to=me', 'sort=title', 'owner=x']) {
      expect((await request(app).get(`/customers/tickets?${query}`).set(actors.manager.headers)).status).toBe(400);
    }
  });
});
