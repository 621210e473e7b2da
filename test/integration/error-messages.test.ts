import { beforeAll, describe, expect, it } from '@jest/globals';
import mongoose from 'mongoose';
import request from 'supertest';
import { Customer } from '../../src/models/customer.model';
import { OutboxMessage } from '../../src/models/outbox.model';
import { runMigrations } from '../../src/services/migrations.service';
import { enqueueMail } from '../../src/services/outbox.service';
import { OutboxWorker } from '../../src/services/outbox.worker';
import { createLogger } from '../../src/utils/logger';
import { buildTestApp } from '../helpers/app';
import { createActors, PASSWORD, uniqueEmail, type Actors } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';
import { buildCustomer, insertCustomer } from '../factories/customer';

// Issue 18 item 13: error messages and states that no longer make the user guess.

useTestDatabase();
const app = buildTestApp();
let actors: Actors;
beforeAll(async () => {
  actors = await createActors(app);
});

describe('409 for a duplicate e-mail', () => {
  it('names the field and, for staff, the id of the customer that holds the address', async () => {
    const input = buildCustomer();
    const first = await request(app).post('/customers').set(actors.user.headers).send(input).expect(201);
    const res = await request(app)
      .post('/customers')
      .set(actors.manager.headers)
      .send({ ...buildCustomer(), email: input.email.toUpperCase() });
    expect(res.status).toBe(409);
    expect(res.body).toEqual({
      error: `A customer with this e-mail already exists (id ${first.body.id})`,
      code: 'DUPLICATE',
      details: [{ location: 'body', field: 'email', message: 'already in use', existing_id: first.body.id }],
    });
    const patched = await request(app)
      .patch(`/customers/${actors.otherCustomer.id}`)
      .set(actors.admin.headers)
      .send({ email: input.email });
    expect(patched.status).toBe(409);
    expect(patched.body.details).toEqual([expect.objectContaining({ field: 'email', existing_id: first.body.id })]);
    expect((await Customer.findById(actors.otherCustomer.id).lean())?.email).toBe(actors.otherCustomer.email);
  });

  it('names the field but no id for a customer changing its own e-mail or signing up', async () => {
    const res = await request(app)
      .patch(`/customers/${actors.customer.id}`)
      .set(actors.customer.headers)
      .send({ email: actors.otherCustomer.email, current_password: PASSWORD });
    expect(res.status).toBe(409);
    expect(res.body).toEqual({
      error: 'A customer with this e-mail already exists',
      code: 'DUPLICATE',
      details: [{ location: 'body', field: 'email', message: 'already in use' }],
    });
    expect(JSON.stringify(res.body)).not.toContain(actors.otherCustomer.id);
    const signup = await request(app)
      .post('/customer/signup')
      .send({ name: 'Again', email: actors.otherCustomer.email, password: PASSWORD });
    expect(signup.status).toBe(409);
    expect(signup.body.details).toEqual([{ location: 'body', field: 'email', message: 'already in use' }]);
  });

  it('names the staff user that holds the address for an ADMIN creating or changing staff', async () => {
    const created = await request(app)
      .post('/user/signup')
      .set(actors.admin.headers)
      .send({ name: 'Dup', email: actors.manager.email, password: PASSWORD });
    expect(created.status).toBe(409);
    expect(created.body.error).toBe(`A staff user with this e-mail already exists (id ${actors.manager.id})`);
    expect(created.body.details).toEqual([{ location: 'body', field: 'email', message: 'already in use', existing_id: actors.manager.id }]);
    const changed = await request(app).patch(`/users/${actors.user.id}`).set(actors.admin.headers).send({ email: actors.otherUser.email });
    expect(changed.status).toBe(409);
    expect(changed.body.details).toEqual([expect.objectContaining({ field: 'email', existing_id: actors.otherUser.id })]);
  });

  it("gives an insert-mode import row the existing customer's id", async () => {
    const existing = await insertCustomer({ email: uniqueEmail('held') });
    const res = await request(app)
      .post('/import/customer_data?mode=insert')
      .set(actors.manager.headers)
      .set('Content-Type', 'text/csv')
      .send(`name,email\nHeld,${existing.email}\n`);
    expect(res.body.errors).toEqual([
      { row: 1, field: 'email', message: `a customer with this e-mail already exists (id ${existing.id})` },
    ]);
  });
});

describe('400 for a bad date', () => {
  const expected = expect.stringMatching(/ISO 8601 \/ RFC 3339 date-time such as 2024-09-01T10:00:00Z.*date such as 2024-09-01/);

  it('says the expected format in a body, instead of "Invalid input"', async () => {
    const customer = await insertCustomer();
    const res = await request(app)
      .post('/interactions')
      .set(actors.user.headers)
      .send({ customer_id: customer.id, type: 'call', scheduled_at: 'next tuesday' });
    expect(res.status).toBe(400);
    expect(res.body.details).toEqual([{ location: 'body', field: 'scheduled_at', message: expected }]);
    expect(JSON.stringify(res.body)).not.toContain('Invalid input');
  });

  it('says the expected format in a query', async () => {
    const res = await request(app).get('/interactions?from=01/09/2024').set(actors.user.headers);
    expect(res.status).toBe(400);
    expect(res.body.details).toEqual([{ location: 'query', field: 'from', message: expected }]);
    const analytics = await request(app).get('/analytics/overview?to=2024-02-30').set(actors.admin.headers);
    expect(analytics.status).toBe(400);
    expect(analytics.body.details).toEqual([expect.objectContaining({ field: 'to', message: expected })]);
  });
});

describe('GET /admin/outbox with no SMTP server configured', () => {
  it('shows a message that was only written to the log as `logged`, not `sent`', async () => {
    const to = uniqueEmail('logged');
    await enqueueMail([{ event: 'test.logged', to, subject: 'Hello', text: 'Hi', html: '<p>Hi</p>' }]);
    const worker = new OutboxWorker({ logger: createLogger(undefined, 'silent'), smtp: null, workerId: 'no-smtp' });
    await worker.runOnce();
    const res = await request(app).get('/admin/outbox?status=logged').set(actors.admin.headers);
    expect(res.status).toBe(200);
    const mine = res.body.filter((m: { to: string }) => m.to === to);
    expect(mine).toEqual([expect.objectContaining({ status: 'logged', attempts: 1, sent_at: expect.any(String) })]);
    const sent = await request(app).get('/admin/outbox?status=sent').set(actors.admin.headers);
    expect(sent.body.map((m: { to: string }) => m.to)).not.toContain(to);
    expect(await OutboxMessage.countDocuments({ to, status: 'logged' })).toBe(1);
  });
});

describe('GET /customers?company=', () => {
  it('matches the company whatever its case, like q', async () => {
    const a = await request(app)
      .post('/customers')
      .set(actors.user.headers)
      .send(buildCustomer({ company: 'Globex Corp' }))
      .expect(201);
    const b = await request(app)
      .post('/customers')
      .set(actors.user.headers)
      .send(buildCustomer({ company: 'GLOBEX corp' }))
      .expect(201);
    await request(app)
      .post('/customers')
      .set(actors.user.headers)
      .send(buildCustomer({ company: 'Globex Corporation' }))
      .expect(201);
    for (const company of ['globex corp', 'Globex Corp', 'GLOBEX CORP']) {
      const res = await request(app)
        .get(`/customers?company=${encodeURIComponent(company)}&sort=created_at`)
        .set(actors.user.headers);
      expect(res.status).toBe(200);
      expect(res.body.map((c: { id: string }) => c.id)).toEqual([a.body.id, b.body.id]);
      expect(res.headers['x-total-count']).toBe('2');
    }
    // A changed or cleared company moves the customer out of the filter.
    await request(app).patch(`/customers/${b.body.id}`).set(actors.user.headers).send({ company: 'Initech' }).expect(200);
    await request(app).patch(`/customers/${a.body.id}`).set(actors.user.headers).send({ company: null }).expect(200);
    expect((await request(app).get('/customers?company=globex%20corp').set(actors.user.headers)).body).toEqual([]);
    const initech = await request(app).get('/customers?company=INITECH').set(actors.user.headers);
    expect(initech.body.map((c: { id: string }) => c.id)).toContain(b.body.id);
    const exported = await request(app).get('/export/customer_data?format=json&company=initech').set(actors.manager.headers);
    expect(exported.body.map((c: { email: string }) => c.email)).toContain(b.body.email);
  });

  it('finds customers stored before the key existed once the start-up migration has run, and drops the old index', async () => {
    const now = new Date();
    const legacy = { _id: new mongoose.Types.ObjectId(), name: 'Old', email: uniqueEmail('legacy'), company: 'Umbrella Ltd' };
    await Customer.collection.insertOne({
      ...legacy,
      status: 'lead',
      tags: [],
      token_version: 0,
      search_terms: [],
      created_at: now,
      updated_at: now,
    });
    await Customer.collection.createIndex({ company: 1, created_at: 1, _id: 1 });
    expect((await request(app).get('/customers?company=umbrella%20ltd').set(actors.user.headers)).body).toEqual([]);
    await runMigrations();
    const res = await request(app).get('/customers?company=umbrella%20ltd').set(actors.user.headers);
    expect(res.body.map((c: { id: string }) => c.id)).toEqual([legacy._id.toHexString()]);
    const indexes = (await Customer.collection.indexes()).map((index) => index.name);
    expect(indexes).toContain('company_key_1_created_at_1__id_1');
    expect(indexes).not.toContain('company_1_created_at_1__id_1');
    await runMigrations(); // idempotent: nothing left to do, no index to drop
  });
});
