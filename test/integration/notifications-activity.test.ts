import { beforeAll, describe, expect, it } from '@jest/globals';
import mongoose from 'mongoose';
import request from 'supertest';
import { Activity } from '../../src/models/activity.model';
import { Notification } from '../../src/models/notification.model';
import { OutboxMessage } from '../../src/models/outbox.model';
import { runAccessMatrix, statuses, type AccessCase, type Attempt } from '../helpers/access-matrix';
import { buildTestApp } from '../helpers/app';
import { createActors, createStaff, type Actors } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';

// In-app notifications and the audit trail (no worker here: the outbox only fills up).

useTestDatabase();
const app = buildTestApp();
let actors: Actors;
let meetingId: string;
let ticketId: string;

beforeAll(async () => {
  actors = await createActors(app);
  const meeting = await request(app)
    .post(`/users/meetings/${actors.customer.id}`)
    .set(actors.user.headers)
    .send({ title: 'Kick-off', scheduled_at: '2031-01-02T10:00:00Z', notes: 'top secret note' });
  meetingId = meeting.body.InsertedID;
  await request(app)
    .patch(`/interactions/${meetingId}`)
    .set(actors.user.headers)
    .send({ notes: 'another secret', scheduled_at: '2031-01-03T10:00:00Z' });
  const ticket = await request(app).post(`/customers/ticket/${meetingId}`).set(actors.customer.headers).send({ title: 'Broken invoice' });
  ticketId = ticket.body.id;
  await request(app).patch(`/customers/ticket/${ticketId}`).set(actors.user.headers).send({ status: 'in_progress' });
});

const oid = (id: string) => new mongoose.Types.ObjectId(id);

describe('GET /notifications', () => {
  it('gives each principal only its own notifications, newest first, with X-Total-Count', async () => {
    const res = await request(app).get('/notifications').set(actors.customer.headers);
    expect(res.status).toBe(200);
    expect(res.body.map((n: { event: string }) => n.event)).toEqual([
      'ticket.status_changed',
      'meeting.rescheduled',
      'meeting.scheduled',
      'customer.welcome',
    ]);
    expect(res.headers['x-total-count']).toBe('4');
    expect(res.body[0]).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{24}$/),
      notification_id: res.body[0].id,
      event: 'ticket.status_changed',
      title: 'Your ticket is in progress: Broken invoice',
      body: 'Your ticket "Broken invoice" moved from open to in progress.',
      entity: 'ticket',
      entity_id: ticketId,
      read: false,
      read_at: null,
      created_at: expect.any(String),
    });
    const user = await request(app).get('/notifications').set(actors.user.headers);
    expect(user.body.map((n: { event: string }) => n.event)).toEqual(['ticket.raised', 'meeting.rescheduled', 'meeting.scheduled']);
    for (const other of [actors.otherCustomer, actors.otherUser]) {
      const res2 = await request(app).get('/notifications').set(other.headers);
      expect(res2.body.map((n: { event: string }) => n.event)).toEqual(other === actors.otherCustomer ? ['customer.welcome'] : []);
    }
    expect(JSON.stringify((await request(app).get('/notifications').set(actors.user.headers)).body)).not.toContain('secret');
  });

  it('pages and filters unread=true; marking one read is idempotent; another principal gets 404', async () => {
    const page = await request(app).get('/notifications?limit=2').set(actors.customer.headers);
    expect(page.body).toHaveLength(2);
    expect(page.headers.link).toContain('rel="next"');
    const target = page.body[1].id as string;

    expect((await request(app).patch(`/notifications/${target}/read`).set(actors.otherCustomer.headers)).status).toBe(404);
    expect((await request(app).patch(`/notifications/${target}/read`).set(actors.user.headers)).status).toBe(404);
    const read = await request(app).patch(`/notifications/${target}/read`).set(actors.customer.headers);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id: target, read: true, read_at: expect.any(String) });
    const again = await request(app).patch(`/notifications/${target}/read`).set(actors.customer.headers);
    expect(again.body.read_at).toBe(read.body.read_at);

    const unread = await request(app).get('/notifications?unread=true').set(actors.customer.headers);
    expect(unread.body.map((n: { id: string }) => n.id)).not.toContain(target);
    expect(unread.body).toHaveLength(3);
    expect((await request(app).get('/notifications?unread=maybe').set(actors.customer.headers)).status).toBe(400);
    expect((await request(app).patch('/notifications/xyz/read').set(actors.customer.headers)).status).toBe(400);
  });

  it("marks all of the caller's notifications read, and nobody else's", async () => {
    const res = await request(app).post('/notifications/read-all').set(actors.customer.headers);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: 'Notifications marked as read', updated: 3 });
    expect((await request(app).get('/notifications?unread=true').set(actors.customer.headers)).body).toEqual([]);
    expect(await Notification.countDocuments({ recipient: oid(actors.user.id), read_at: null })).toBe(3);
    expect(await Notification.countDocuments({ recipient: oid(actors.otherCustomer.id), read_at: null })).toBe(1);
  });
});

describe('activity trail', () => {
  it("records who changed what on a customer's interactions and tickets, by field name only", async () => {
    const res = await request(app).get(`/customers/${actors.customer.id}/activity`).set(actors.user.headers);
    expect(res.status).toBe(200);
    const rows = res.body.map((a: { entity: string; action: string; fields: string[]; actor: { type: string; id: string } }) => [
      a.entity,
      a.action,
      a.actor.type,
      a.actor.id,
      a.fields,
    ]);
    expect(rows).toEqual([
      ['ticket', 'update', 'user', actors.user.id, ['status']],
      ['ticket', 'create', 'customer', actors.customer.id, ['assigned_to', 'customer', 'interaction', 'priority', 'status', 'title']],
      ['interaction', 'update', 'user', actors.user.id, ['notes', 'scheduled_at']],
      ['interaction', 'create', 'user', actors.user.id, ['customer', 'notes', 'scheduled_at', 'status', 'title', 'type', 'user']],
      ['customer', 'create', 'customer', actors.customer.id, ['company', 'email', 'name', 'password', 'status']],
    ]);
    expect(res.body[0]).toMatchObject({ entity_id: ticketId, customer_id: actors.customer.id });
    const stored = JSON.stringify(await Activity.find({}).lean());
    expect(stored).not.toContain('secret');
    expect(stored).not.toMatch(/\$2[aby]\$/);
    expect(stored).not.toContain('enc:');
  });

  it('records password changes by name, deletions, and staff user changes', async () => {
    const staff = await createStaff(app, actors.admin, 'USER', 'renamed');
    expect(
      (await request(app).patch(`/users/${staff.id}`).set(actors.admin.headers).send({ name: 'Renamed', password: 'another password 9' }))
        .status,
    ).toBe(200);
    const trail = await request(app).get(`/activity?entity=user&entity_id=${staff.id}`).set(actors.admin.headers);
    expect(trail.body.map((a: { action: string; fields: string[] }) => [a.action, a.fields])).toEqual([
      ['update', ['name', 'password']],
      ['create', ['email', 'name', 'password', 'role']],
    ]);
    expect(trail.body[0].actor).toEqual({ type: 'user', id: actors.admin.id });

    expect((await request(app).delete(`/customers/ticket/${ticketId}`).set(actors.manager.headers)).status).toBe(200);
    const deleted = await request(app).get(`/activity?action=delete&actor_id=${actors.manager.id}`).set(actors.admin.headers);
    expect(deleted.body).toEqual([
      expect.objectContaining({ entity: 'ticket', entity_id: ticketId, fields: [], customer_id: actors.customer.id }),
    ]);
  });

  it('filters the whole trail by time, and refuses bad filters with 400', async () => {
    const all = await request(app).get('/activity?limit=100').set(actors.admin.headers);
    expect(all.status).toBe(200);
    const newest = all.body[0].at as string;
    const later = await request(app)
      .get(`/activity?from=${encodeURIComponent(new Date(Date.parse(newest) + 1).toISOString())}`)
      .set(actors.admin.headers);
    expect(later.body).toEqual([]);
    const until = await request(app)
      .get(`/activity?to=${encodeURIComponent(newest)}&limit=100`)
      .set(actors.admin.headers);
    expect(until.body).toHaveLength(all.body.length - 1);
    expect((await request(app).get('/activity?entity=planet').set(actors.admin.headers)).status).toBe(400);
    expect((await request(app).get('/activity?from=2030-01-02&to=2030-01-01').set(actors.admin.headers)).status).toBe(400);
  });

  it('answers 404 for the timeline of an unknown customer', async () => {
    const res = await request(app).get(`/customers/${new mongoose.Types.ObjectId().toHexString()}/activity`).set(actors.admin.headers);
    expect(res.status).toBe(404);
  });

  it('writes the outbox in the request, with one message per recipient', async () => {
    expect(await OutboxMessage.countDocuments({ event: 'meeting.scheduled' })).toBe(2);
    expect(await OutboxMessage.countDocuments({ event: 'ticket.raised', to: actors.user.email })).toBe(1);
    expect(await OutboxMessage.countDocuments({ status: 'pending' })).toBe(await OutboxMessage.countDocuments({}));
  });
});

const customerTimeline = (a: Actors) => `/customers/${a.customer.id}/activity`;
/** A fresh unread notification of the customer for each attempt: only the customer may mark it. */
const customersUnreadNotification = async (a: Actors) => {
  const mine = await Notification.create({
    recipient_type: 'customer',
    recipient: oid(a.customer.id),
    event: 'test.matrix',
    title: 'Matrix',
    body: 'A notification to mark read',
    entity: 'customer',
    entity_id: oid(a.customer.id),
  });
  return `/notifications/${mine._id.toHexString()}/read`;
};
const notificationState = async (_a: Actors, attempt: Attempt) => Notification.findById(attempt.path.split('/')[2]).lean();
// Unread notifications exist (the USER's three, at the least), so a refused read-all that marked any would show.
const unreadState = async () => ({
  unread: await Notification.countDocuments({ read_at: null }),
  all: await Notification.countDocuments(),
});

const cases: AccessCase[] = [
  { method: 'get', route: 'GET /notifications', path: () => '/notifications', expect: statuses(401, 200, 200, 200, 200, 200, 200) },
  {
    method: 'post',
    route: 'POST /notifications/read-all',
    path: () => '/notifications/read-all',
    state: unreadState,
    expect: statuses(401, 200, 200, 200, 200, 200, 200),
  },
  {
    method: 'patch',
    route: "PATCH /notifications/:id/read (the customer's)",
    path: customersUnreadNotification,
    state: notificationState,
    expect: statuses(401, 404, 404, 404, 404, 200, 404),
  },
  { method: 'get', route: 'GET /customers/:cust_id/activity', path: customerTimeline, expect: statuses(401, 200, 200, 200, 200, 403, 403) },
  { method: 'get', route: 'GET /activity', path: () => '/activity', expect: statuses(401, 200, 403, 403, 403, 403, 403) },
  {
    method: 'get',
    route: 'GET /admin/outbox',
    path: () => '/admin/outbox?status=failed',
    expect: statuses(401, 200, 403, 403, 403, 403, 403),
  },
];
runAccessMatrix('access rules', app, () => actors, cases);
