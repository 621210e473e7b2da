import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import mongoose from 'mongoose';
import request from 'supertest';
import { engineCapabilities } from '../../src/database/capabilities';
import { Activity } from '../../src/models/activity.model';
import { AnalyticsDelta } from '../../src/models/analytics-counter.model';
import { Customer } from '../../src/models/customer.model';
import { Notification } from '../../src/models/notification.model';
import { OutboxMessage } from '../../src/models/outbox.model';
import { Ticket } from '../../src/models/ticket.model';
import { buildCustomer } from '../factories/customer';
import { buildTestApp } from '../helpers/app';
import { createActors, type Actors } from '../helpers/auth';
import { testMongoUri, useTestDatabase } from '../helpers/db';

// On an engine with transactions, an entity write and the entries it causes (analytics delta, activity,
// outbox, in-app notice) commit together. SecantusDB's configureFailPoint (mongod's test command) fails the
// second write of the transaction; afterwards nothing of the request may be in the database. The fail point
// is scoped to this file's connection (appName), so files running in parallel are not touched.

const APP_NAME = 'crm-transaction-fault';
const withAppName = () => {
  const url = new URL(testMongoUri());
  url.searchParams.set('appName', APP_NAME);
  return url.toString();
};
useTestDatabase({ uri: withAppName });
const app = buildTestApp();
let actors: Actors;
let transactional = false;

async function failPoint(mode: unknown, data: Record<string, unknown> = {}): Promise<void> {
  await mongoose.connection.db?.admin().command({ configureFailPoint: 'failCommand', mode, data: { ...data, appName: APP_NAME } });
}

/** Fails the second `commandName` this connection sends, with "shutting down" and no retry label. */
const failSecond = (commandName: string) =>
  failPoint({ skip: 1, times: 1 }, { failCommands: [commandName], errorCode: 91, errorLabels: [] });

async function counts() {
  const [customers, activity, deltas, outbox, notifications, tickets] = await Promise.all([
    Customer.countDocuments(),
    Activity.countDocuments(),
    AnalyticsDelta.countDocuments(),
    OutboxMessage.countDocuments(),
    Notification.countDocuments(),
    Ticket.countDocuments(),
  ]);
  return { customers, activity, deltas, outbox, notifications, tickets };
}

beforeAll(async () => {
  actors = await createActors(app);
  const hello = await mongoose.connection.db?.admin().command({ hello: 1 });
  transactional = typeof hello?.setName === 'string';
});

afterEach(async () => {
  if (transactional) await failPoint('off');
});

describe('one request, one transaction', () => {
  it('is used exactly where the engine has transactions', () => {
    expect(engineCapabilities().transactions).toBe(transactional);
  });

  it('leaves nothing of POST /customers when its second write fails, and commits it all on the retry', async () => {
    if (!transactional) {
      // Without transactions the writes are ordered (entity first); there is no fail point to use.
      expect(engineCapabilities().engine).not.toBe('secantusdb');
      return;
    }
    const before = await counts();
    const body = buildCustomer({ email: 'half.written@example.com' });
    // Where the engine has client-level bulkWrite, the record and its side entries are one bulkWrite command
    // (queued inserts); otherwise separate inserts, of which the second fails.
    if (engineCapabilities().clientBulkWrite)
      await failPoint({ times: 1 }, { failCommands: ['bulkWrite'], errorCode: 91, errorLabels: [] });
    else await failSecond('insert');
    const failed = await request(app).post('/customers').set(actors.manager.headers).send(body);
    expect(failed.status).toBe(503);
    expect(failed.body.code).toBe('DATABASE_UNAVAILABLE');
    expect(await counts()).toEqual(before);

    const created = await request(app).post('/customers').set(actors.manager.headers).send(body);
    expect(created.status).toBe(201);
    expect(await counts()).toEqual({
      ...before,
      customers: before.customers + 1,
      activity: before.activity + 1,
      deltas: before.deltas + 1,
    });
  });

  it('leaves nothing of POST /customers when its commit fails after the writes were sent', async () => {
    if (!transactional) return;
    // SecantusDB has MongoDB 8's client-level bulkWrite in transactions (probed at start).
    expect(engineCapabilities().clientBulkWrite).toBe(engineCapabilities().engine === 'secantusdb');
    const before = await counts();
    const body = buildCustomer({ email: 'commit.failed@example.com' });
    await failPoint({ times: 1 }, { failCommands: ['commitTransaction'], errorCode: 91, errorLabels: [] });
    const failed = await request(app).post('/customers').set(actors.manager.headers).send(body);
    expect(failed.status).toBe(503);
    expect(await counts()).toEqual(before);
    const none = await request(app).get('/customers').query({ q: 'commit.failed@example.com' }).set(actors.manager.headers);
    expect(none.headers['x-total-count']).toBe('0');
    const created = await request(app).post('/customers').set(actors.manager.headers).send(body);
    expect(created.status).toBe(201);
    expect(await counts()).toEqual({
      ...before,
      customers: before.customers + 1,
      activity: before.activity + 1,
      deltas: before.deltas + 1,
    });
    // The list total of this process follows the queued insert (the write watch counts it).
    const listed = await request(app).get('/customers').query({ q: 'commit.failed@example.com' }).set(actors.manager.headers);
    expect(listed.headers['x-total-count']).toBe('1');
  });

  it('leaves a customer as it was when its PATCH side writes fail after the update', async () => {
    if (!transactional) return;
    const created = await request(app)
      .post('/customers')
      .set(actors.manager.headers)
      .send(buildCustomer({ company: 'Before Ltd' }));
    expect(created.status).toBe(201);
    const before = await counts();
    // The update, the delta and the activity entry go as one client-level bulkWrite where the engine has it (queued,
    // as for a create: the command fails as a whole); otherwise as separate writes, of which the second insert fails
    // after the update.
    if (engineCapabilities().clientBulkWrite)
      await failPoint({ times: 1 }, { failCommands: ['bulkWrite'], errorCode: 91, errorLabels: [] });
    else await failSecond('insert');
    const failed = await request(app).patch(`/customers/${created.body.id}`).set(actors.manager.headers).send({ company: 'After Ltd' });
    expect(failed.status).toBe(503);
    expect(await counts()).toEqual(before);
    const read = await request(app).get(`/customers/${created.body.id}`).set(actors.manager.headers);
    expect(read.body.company).toBe('Before Ltd');
    await failPoint('off');
    const patched = await request(app).patch(`/customers/${created.body.id}`).set(actors.manager.headers).send({ company: 'After Ltd' });
    expect(patched.status).toBe(200);
    expect(await counts()).toEqual({ ...before, activity: before.activity + 1, deltas: before.deltas + 1 });
  });

  it('leaves a ticket, its trail and its notices as they were when a status change fails half-way', async () => {
    if (!transactional) {
      expect(engineCapabilities().engine).not.toBe('secantusdb');
      return;
    }
    const customer = await request(app).post('/customers').set(actors.manager.headers).send(buildCustomer());
    const meeting = await request(app)
      .post(`/users/meetings/${customer.body.id}`)
      .set(actors.manager.headers)
      .send({ title: 'Kick-off', scheduled_at: new Date(Date.now() + 86_400_000).toISOString() });
    expect(meeting.status).toBe(201);
    const raised = await request(app)
      .post(`/customers/ticket/${meeting.body.InsertedID}`)
      .set(actors.manager.headers)
      .send({ title: 'Broken login' });
    expect(raised.status).toBe(201);
    const ticketId = raised.body.id as string;
    const before = await counts();
    const stored = await Ticket.findById(ticketId).lean();

    // The ticket's update goes through; the first insert after it (its analytics delta) fails.
    await failPoint({ times: 1 }, { failCommands: ['insert'], errorCode: 91, errorLabels: [] });
    const failed = await request(app).patch(`/customers/ticket/${ticketId}`).set(actors.manager.headers).send({ status: 'in_progress' });
    expect(failed.status).toBe(503);
    expect(await counts()).toEqual(before);
    expect(await Ticket.findById(ticketId).lean()).toEqual(stored);

    const moved = await request(app).patch(`/customers/ticket/${ticketId}`).set(actors.manager.headers).send({ status: 'in_progress' });
    expect(moved.status).toBe(200);
    const after = await counts();
    expect(after.activity).toBe(before.activity + 1);
    expect(after.deltas).toBe(before.deltas + 1);
    expect((await Ticket.findById(ticketId).lean())?.status).toBe('in_progress');
  });
});
