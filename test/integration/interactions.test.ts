import { beforeAll, describe, expect, it } from '@jest/globals';
import mongoose from 'mongoose';
import request from 'supertest';
import { Interaction } from '../../src/models/interaction.model';
import { Ticket } from '../../src/models/ticket.model';
import { buildTestApp } from '../helpers/app';
import { createActors, type Actors } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';
import { insertCustomer } from '../factories/customer';
import { insertInteraction, insertTicket } from '../factories/interaction';

useTestDatabase();
const app = buildTestApp();
let actors: Actors;
const unknownId = '0123456789abcdef01234567';

beforeAll(async () => {
  actors = await createActors(app);
});

const oid = (id: string) => new mongoose.Types.ObjectId(id);
const admin = () => ({ type: 'user' as const, id: actors.admin.id, role: 'ADMIN' as const });

describe('POST /users/meetings/:customer_id', () => {
  it("accepts the original README's request verbatim and answers {InsertedID} with 201", async () => {
    const res = await request(app)
      .post(`/users/meetings/${actors.customer.id}`)
      .set('token', actors.user.token)
      .set('Content-Type', 'multipart/form-data')
      .send('{}');
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ InsertedID: expect.stringMatching(/^[0-9a-f]{24}$/) });
    const stored = await Interaction.findById(res.body.InsertedID).lean();
    expect(stored).toMatchObject({ type: 'meeting', status: 'scheduled', customer: oid(actors.customer.id), user: oid(actors.user.id) });
    // Unscheduled: it happens "now" for lists and analytics.
    expect(stored?.occurs_at).toEqual(stored?.created_at);
    expect(stored?.day).toBe(stored?.created_at.toISOString().slice(0, 10));
    expect(stored?.month).toBe(stored?.created_at.toISOString().slice(0, 7));
    expect(stored?.week).toMatch(/^\d{4}-W\d{2}$/);
  });

  it('schedules with a time, title and notes, bucketing on scheduled_at', async () => {
    const res = await request(app)
      .post(`/users/meetings/${actors.customer.id}`)
      .set(actors.manager.headers)
      .send({ Title: 'Contract review', scheduled_at: '2024-12-30T15:00:00Z', notes: 'bring the draft' });
    expect(res.status).toBe(201);
    const stored = await Interaction.findById(res.body.InsertedID).lean();
    expect(stored).toMatchObject({
      title: 'Contract review',
      day: '2024-12-30',
      week: '2025-W01',
      month: '2024-12',
      user: oid(actors.manager.id),
    });
    expect(stored?.occurs_at.toISOString()).toBe('2024-12-30T15:00:00.000Z');
  });

  it('answers 404 for an unknown customer, 400 for a malformed id or field, 403 for a customer, 401 without a token', async () => {
    expect((await request(app).post(`/users/meetings/${unknownId}`).set(actors.user.headers).send({})).status).toBe(404);
    const malformed = await request(app).post('/users/meetings/nope').set(actors.user.headers).send({});
    expect(malformed.status).toBe(400);
    expect(malformed.body.details).toEqual([expect.objectContaining({ field: 'customer_id' })]);
    const badDate = await request(app)
      .post(`/users/meetings/${actors.customer.id}`)
      .set(actors.user.headers)
      .send({ scheduled_at: 'tomorrow' });
    expect(badDate.status).toBe(400);
    expect(badDate.body.details).toEqual([expect.objectContaining({ field: 'scheduled_at' })]);
    expect((await request(app).post(`/users/meetings/${actors.customer.id}`).set(actors.customer.headers).send({})).status).toBe(403);
    expect((await request(app).post(`/users/meetings/${actors.customer.id}`).send({})).status).toBe(401);
  });
});

describe('POST /interactions', () => {
  it('creates an interaction owned by the caller and answers it with 201', async () => {
    const res = await request(app).post('/interactions').set(actors.user.headers).send({
      customer_id: actors.customer.id,
      type: 'call',
      title: 'Intro call',
      notes: 'Budget approved for Q4',
      scheduled_at: '2024-09-02T10:00:00Z',
    });
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/interactions/${res.body.id}`);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{24}$/),
      interaction_id: res.body.id,
      customer_id: actors.customer.id,
      user_id: actors.user.id,
      type: 'call',
      title: 'Intro call',
      notes: 'Budget approved for Q4',
      outcome: null,
      status: 'scheduled',
      scheduled_at: '2024-09-02T10:00:00.000Z',
      due_at: null,
      completed_at: null,
      occurs_at: '2024-09-02T10:00:00.000Z',
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    const stored = await Interaction.findById(res.body.id).lean();
    expect(stored).toMatchObject({ type: 'call', day: '2024-09-02', week: '2024-W36', month: '2024-09', user: oid(actors.user.id) });
  });

  it('sets completed_at when created completed', async () => {
    const res = await request(app)
      .post('/interactions')
      .set(actors.user.headers)
      .send({ customer_id: actors.customer.id, type: 'note', status: 'completed', outcome: 'Agreed' });
    expect(res.status).toBe(201);
    expect(res.body.completed_at).toEqual(expect.any(String));
    expect(res.body.outcome).toBe('Agreed');
    expect((await Interaction.findById(res.body.id).lean())?.completed_at).toBeInstanceOf(Date);
  });

  it('lets a MANAGER create for another user, but not a USER (403)', async () => {
    const body = { customer_id: actors.customer.id, type: 'task', due_at: '2024-10-01', user_id: actors.otherUser.id };
    const managed = await request(app).post('/interactions').set(actors.manager.headers).send(body);
    expect(managed.status).toBe(201);
    expect(managed.body.user_id).toBe(actors.otherUser.id);
    expect(managed.body.occurs_at).toBe('2024-10-01T00:00:00.000Z');
    const refused = await request(app).post('/interactions').set(actors.user.headers).send(body);
    expect(refused.status).toBe(403);
    expect(await Interaction.countDocuments({ user: oid(actors.otherUser.id), type: 'task' })).toBe(1);
  });

  it('answers 400 naming the field for a customer or user that does not exist, a bad type, or completed_at on a scheduled one', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ customer_id: unknownId, type: 'call' }, 'customer_id'],
      [{ customer_id: actors.customer.id, type: 'call', user_id: unknownId }, 'user_id'],
      [{ customer_id: actors.customer.id, type: 'lunch' }, 'type'],
      [{ customer_id: actors.customer.id, type: 'call', completed_at: '2024-09-01T00:00:00Z' }, 'completed_at'],
      [{ customer_id: actors.customer.id, type: 'call', notes: { $gt: '' } }, 'notes'],
    ];
    const before = await Interaction.countDocuments();
    for (const [body, field] of cases) {
      const res = await request(app).post('/interactions').set(actors.manager.headers).send(body);
      expect({ field, status: res.status, details: res.body.details }).toEqual({
        field,
        status: 400,
        details: [expect.objectContaining({ field })],
      });
    }
    expect(await Interaction.countDocuments()).toBe(before);
  });
});

describe('GET /interactions/:interaction_id', () => {
  it('shows staff the notes and outcome, and the customer neither', async () => {
    const interaction = await insertInteraction({
      customer: actors.customer.id,
      user: actors.user.id,
      notes: 'internal: churn risk',
      outcome: 'renewed',
    });
    const staff = await request(app).get(`/interactions/${interaction._id.toHexString()}`).set(actors.user.headers);
    expect(staff.status).toBe(200);
    expect(staff.body).toMatchObject({ notes: 'internal: churn risk', outcome: 'renewed' });
    const own = await request(app).get(`/interactions/${interaction._id.toHexString()}`).set(actors.customer.headers);
    expect(own.status).toBe(200);
    expect(own.body).not.toHaveProperty('notes');
    expect(own.body).not.toHaveProperty('outcome');
    expect(own.text).not.toContain('churn');
    expect(own.body).toMatchObject({ id: interaction._id.toHexString(), customer_id: actors.customer.id, user_id: actors.user.id });
  });

  it('answers 404 to another USER and another customer, and for an unknown id; 400 for a malformed one', async () => {
    const interaction = await insertInteraction({ customer: actors.customer.id, user: actors.user.id });
    const path = `/interactions/${interaction._id.toHexString()}`;
    expect((await request(app).get(path).set(actors.otherUser.headers)).status).toBe(404);
    expect((await request(app).get(path).set(actors.otherCustomer.headers)).status).toBe(404);
    expect((await request(app).get(`/interactions/${unknownId}`).set(actors.admin.headers)).status).toBe(404);
    expect((await request(app).get('/interactions/12345').set(actors.admin.headers)).status).toBe(400);
  });
});

describe('PATCH /interactions/:interaction_id', () => {
  it('completing sets completed_at and reopening clears it', async () => {
    const interaction = await insertInteraction({ customer: actors.customer.id, user: actors.user.id });
    const path = `/interactions/${interaction._id.toHexString()}`;
    const done = await request(app).patch(path).set(actors.user.headers).send({ status: 'completed', outcome: 'Signed' });
    expect(done.status).toBe(200);
    expect(done.body).toEqual({
      message: 'Interaction updated successfully',
      interaction: expect.objectContaining({ status: 'completed', outcome: 'Signed' }),
    });
    expect(done.body.interaction.completed_at).toEqual(expect.any(String));
    expect((await Interaction.findById(interaction._id).lean())?.completed_at).toBeInstanceOf(Date);

    const reopened = await request(app).patch(path).set(actors.user.headers).send({ status: 'scheduled' });
    expect(reopened.status).toBe(200);
    expect(reopened.body.interaction.completed_at).toBeNull();
    expect((await Interaction.findById(interaction._id).lean())?.completed_at).toBeUndefined();
  });

  it('keeps an explicit completed_at, refuses one on an uncompleted interaction, and clears fields with null', async () => {
    const interaction = await insertInteraction({ customer: actors.customer.id, user: actors.user.id, notes: 'n', title: 't' });
    const path = `/interactions/${interaction._id.toHexString()}`;
    const refused = await request(app).patch(path).set(actors.user.headers).send({ completed_at: '2024-09-01T09:00:00Z' });
    expect(refused.status).toBe(400);
    expect(refused.body.details).toEqual([expect.objectContaining({ field: 'completed_at' })]);
    const done = await request(app)
      .patch(path)
      .set(actors.user.headers)
      .send({ status: 'completed', completed_at: '2024-09-01T09:00:00Z', notes: null, title: null });
    expect(done.status).toBe(200);
    expect(done.body.interaction).toMatchObject({ completed_at: '2024-09-01T09:00:00.000Z', notes: null, title: null });
    const stored = await Interaction.findById(interaction._id).lean();
    expect(stored?.notes).toBeUndefined();
    expect(stored?.title).toBeUndefined();
  });

  it('moves occurs_at and its buckets with scheduled_at', async () => {
    const interaction = await insertInteraction({
      customer: actors.customer.id,
      user: actors.user.id,
      scheduled_at: new Date('2024-01-10T00:00:00Z'),
    });
    const res = await request(app)
      .patch(`/interactions/${interaction._id.toHexString()}`)
      .set(actors.user.headers)
      .send({ scheduled_at: '2024-03-05T08:00:00Z' });
    expect(res.status).toBe(200);
    expect(res.body.interaction.occurs_at).toBe('2024-03-05T08:00:00.000Z');
    expect(await Interaction.findById(interaction._id).lean()).toMatchObject({ day: '2024-03-05', week: '2024-W10', month: '2024-03' });
    const cleared = await request(app)
      .patch(`/interactions/${interaction._id.toHexString()}`)
      .set(actors.user.headers)
      .send({ scheduled_at: null });
    expect(cleared.body.interaction.occurs_at).toBe(cleared.body.interaction.created_at);
  });

  it("hands an interaction to another user (MANAGER only), and its tickets' visibility follows", async () => {
    const interaction = await insertInteraction({ customer: actors.customer.id, user: actors.user.id });
    const ticket = await insertTicket(interaction._id.toHexString(), admin(), { assigned_to: actors.manager.id });
    const path = `/interactions/${interaction._id.toHexString()}`;
    expect((await request(app).patch(path).set(actors.user.headers).send({ user_id: actors.otherUser.id })).status).toBe(403);
    expect((await request(app).patch(path).set(actors.manager.headers).send({ user_id: unknownId })).status).toBe(400);
    const moved = await request(app).patch(path).set(actors.manager.headers).send({ user_id: actors.otherUser.id });
    expect(moved.status).toBe(200);
    expect(moved.body.interaction.user_id).toBe(actors.otherUser.id);
    expect((await Ticket.findById(ticket._id).lean())?.interaction_user).toEqual(oid(actors.otherUser.id));
    expect((await request(app).get(`/customers/tickets/${ticket._id.toHexString()}`).set(actors.otherUser.headers)).status).toBe(200);
    expect((await request(app).get(`/customers/tickets/${ticket._id.toHexString()}`).set(actors.user.headers)).status).toBe(404);
  });

  it('answers 404 to another USER and 400 for an empty or unknown change', async () => {
    const interaction = await insertInteraction({ customer: actors.customer.id, user: actors.user.id });
    const path = `/interactions/${interaction._id.toHexString()}`;
    expect((await request(app).patch(path).set(actors.otherUser.headers).send({ title: 'mine now' })).status).toBe(404);
    expect((await request(app).patch(path).set(actors.user.headers).send({})).status).toBe(400);
    expect((await request(app).patch(path).set(actors.user.headers).send({ customer_id: actors.otherCustomer.id })).status).toBe(400);
    expect((await Interaction.findById(interaction._id).lean())?.title).toBe('Factory meeting');
  });
});

describe('DELETE /interactions/:interaction_id', () => {
  it('needs cascade=true when the interaction has tickets, then deletes them too', async () => {
    const interaction = await insertInteraction({ customer: actors.customer.id, user: actors.user.id });
    await insertTicket(interaction._id.toHexString(), admin());
    const path = `/interactions/${interaction._id.toHexString()}`;
    const refused = await request(app).delete(path).set(actors.user.headers);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'HAS_DEPENDENTS', details: [{ field: 'tickets', message: '1 linked' }] });
    const deleted = await request(app).delete(`${path}?cascade=true`).set(actors.user.headers);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ message: 'Interaction deleted successfully' });
    expect(await Interaction.exists({ _id: interaction._id })).toBeNull();
    expect(await Ticket.countDocuments({ interaction: interaction._id })).toBe(0);
  });

  it('deletes one without tickets, and answers 404 to another USER', async () => {
    const interaction = await insertInteraction({ customer: actors.customer.id, user: actors.user.id });
    const path = `/interactions/${interaction._id.toHexString()}`;
    expect((await request(app).delete(path).set(actors.otherUser.headers)).status).toBe(404);
    expect((await request(app).delete(path).set(actors.user.headers)).status).toBe(200);
    expect(await Interaction.exists({ _id: interaction._id })).toBeNull();
  });
});

describe('customer and user deletion keep references whole', () => {
  it('a customer with interactions and tickets needs cascade=true, which removes them', async () => {
    const customer = await insertCustomer();
    const interaction = await insertInteraction({ customer: customer._id.toHexString(), user: actors.user.id });
    await insertTicket(interaction._id.toHexString(), admin());
    const refused = await request(app).delete(`/customers/${customer._id.toHexString()}`).set(actors.manager.headers);
    expect(refused.status).toBe(409);
    expect(refused.body.details).toEqual([
      { field: 'interactions', message: '1 linked' },
      { field: 'tickets', message: '1 linked' },
    ]);
    expect((await request(app).delete(`/customers/${customer._id.toHexString()}?cascade=true`).set(actors.manager.headers)).status).toBe(
      200,
    );
    expect(await Interaction.countDocuments({ customer: customer._id })).toBe(0);
    expect(await Ticket.countDocuments({ customer: customer._id })).toBe(0);
  });

  it('a user owning interactions or tickets needs reassign_to, which hands them over', async () => {
    const leaving = await request(app)
      .post('/user/signup')
      .set(actors.admin.headers)
      .send({ name: 'Leaving', email: 'leaving@example.com', password: 'correct horse battery' });
    const leaverId: string = leaving.body.user.id;
    const customer = await insertCustomer();
    const interaction = await insertInteraction({ customer: customer._id.toHexString(), user: leaverId });
    const ticket = await insertTicket(interaction._id.toHexString(), admin());
    const refused = await request(app).delete(`/users/${leaverId}`).set(actors.admin.headers);
    expect(refused.status).toBe(409);
    expect(refused.body.details).toEqual(
      expect.arrayContaining([
        { field: 'interactions', message: '1 owned' },
        { field: 'tickets', message: '1 owned' },
      ]),
    );
    expect((await request(app).delete(`/users/${leaverId}?reassign_to=${actors.user.id}`).set(actors.admin.headers)).status).toBe(200);
    expect((await Interaction.findById(interaction._id).lean())?.user).toEqual(oid(actors.user.id));
    expect(await Ticket.findById(ticket._id).lean()).toMatchObject({
      assigned_to: oid(actors.user.id),
      interaction_user: oid(actors.user.id),
    });
  });
});
