import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import mongoose from 'mongoose';
import request from 'supertest';
import { OutboxClaim, OutboxMessage } from '../../src/models/outbox.model';
import { Ticket, type TicketRecord } from '../../src/models/ticket.model';
import * as notify from '../../src/services/notifications';
import { enqueueMail } from '../../src/services/outbox.service';
import { OutboxWorker } from '../../src/services/outbox.worker';
import { createLogger } from '../../src/utils/logger';
import { buildTestApp } from '../helpers/app';
import { createActors, PASSWORD, uniqueEmail, type Actors } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';
import { eventually, outboxSettled, SmtpCatcher, type CaughtMail } from '../helpers/smtp';

// E-mail end to end: the request writes the outbox, a real worker delivers to a real SMTP server.

useTestDatabase();
const app = buildTestApp();
const smtp = new SmtpCatcher();
const silent = createLogger(undefined, 'silent');
let actors: Actors;
let worker: OutboxWorker;

function newWorker(id: string) {
  return new OutboxWorker({
    logger: silent,
    smtp: { host: '127.0.0.1', port: smtp.port, secure: false },
    from: 'CRM <crm@example.com>',
    // Enqueues in this process wake the worker at once; polling only finds retries that came due.
    pollMs: 250,
    leaseMs: 3000,
    backoffMs: 100,
    batchSize: 10,
    workerId: id,
  });
}

beforeAll(async () => {
  await smtp.start();
  actors = await createActors(app);
  worker = newWorker('test-worker');
  worker.start();
  // Sign-up welcomes of the actors above.
  await smtp.waitFor((mails) => mails.filter((m) => m.event === 'customer.welcome').length === 2);
});

afterAll(async () => {
  await worker.stop();
  await smtp.stop();
});

/**
 * Brings the outbox to rest: no message pending, and the worker stopped, which waits for any attempt still
 * in progress. After it the catcher holds every mail that will ever go out, so a count ("nothing", "once")
 * is exact rather than a guess after a pause. A fresh worker then takes over.
 */
async function settleOutbox(): Promise<void> {
  await outboxSettled();
  await worker.stop();
  worker = newWorker('test-worker');
  worker.start();
}

beforeEach(async () => {
  // A test starts with no delivery of an earlier one still on its way.
  await settleOutbox();
  smtp.mails.length = 0;
  smtp.refuse.clear();
});

const recipients = (mails: CaughtMail[]) => mails.flatMap((m) => m.to).sort();

describe('events → e-mail', () => {
  it('welcomes a customer who signs up, escaping its name in the HTML body', async () => {
    const email = uniqueEmail('welcome');
    const name = 'Ann <b>&</b> "Co"';
    const res = await request(app).post('/customer/signup').send({ name, email, password: PASSWORD });
    expect(res.status).toBe(201);
    const [mail] = await smtp.waitFor((mails) => mails.length === 1);
    expect(mail).toMatchObject({ to: [email], from: 'crm@example.com', event: 'customer.welcome', subject: 'Welcome to the CRM' });
    expect(mail?.text).toContain(`Hello ${name},`);
    expect(mail?.html).toContain('Hello Ann &lt;b&gt;&amp;&lt;/b&gt; &quot;Co&quot;,');
    expect(mail?.html).not.toContain('<b>');
    expect(mail?.raw).not.toContain(PASSWORD);
  });

  it('tells the customer and the staff user when a meeting is scheduled, rescheduled, completed or cancelled', async () => {
    const scheduled = await request(app)
      .post(`/users/meetings/${actors.customer.id}`)
      .set(actors.user.headers)
      .send({ title: 'Quarterly review', scheduled_at: '2031-05-04T09:30:00Z', notes: 'secret internal note' });
    expect(scheduled.status).toBe(201);
    const id = scheduled.body.InsertedID as string;
    const both = [actors.customer.email, actors.user.email].sort();

    const first = await smtp.waitFor((mails) => mails.length === 2);
    expect(recipients(first)).toEqual(both);
    for (const mail of first) {
      expect(mail.subject).toBe('Meeting scheduled: Quarterly review');
      expect(mail.text).toContain('2031-05-04 09:30 UTC');
      expect(mail.raw).not.toContain('secret internal note');
    }

    const steps: [object, string][] = [
      [{ scheduled_at: '2031-05-05T14:00:00Z' }, 'Meeting rescheduled: Quarterly review'],
      [{ status: 'completed', outcome: 'confidential outcome' }, 'Meeting completed: Quarterly review'],
    ];
    for (const [change, subject] of steps) {
      smtp.mails.length = 0;
      expect((await request(app).patch(`/interactions/${id}`).set(actors.user.headers).send(change)).status).toBe(200);
      const mails = await smtp.waitFor((m) => m.length === 2);
      expect(recipients(mails)).toEqual(both);
      expect(mails.map((m) => m.subject)).toEqual([subject, subject]);
      expect(mails.map((m) => m.raw).join('')).not.toContain('confidential outcome');
    }
    expect(smtp.mails[0]?.text).toContain('has been completed');

    smtp.mails.length = 0;
    const other = await request(app).post(`/users/meetings/${actors.customer.id}`).set(actors.user.headers).send({ title: 'Demo' });
    await smtp.waitFor((m) => m.length === 2);
    smtp.mails.length = 0;
    await request(app).patch(`/interactions/${other.body.InsertedID}`).set(actors.manager.headers).send({ status: 'cancelled' });
    const cancelled = await smtp.waitFor((m) => m.length === 2);
    expect(recipients(cancelled)).toEqual(both);
    expect(cancelled.map((m) => m.subject)).toEqual(['Meeting cancelled: Demo', 'Meeting cancelled: Demo']);
  });

  it('sends nothing for an interaction that is not a meeting', async () => {
    const queued = await OutboxMessage.countDocuments();
    const res = await request(app)
      .post('/interactions')
      .set(actors.user.headers)
      .send({ customer_id: actors.customer.id, type: 'call', title: 'Call' });
    expect(res.status).toBe(201);
    // The request writes its messages before it answers: none was queued, and none went out.
    expect(await OutboxMessage.countDocuments()).toBe(queued);
    await settleOutbox();
    expect(smtp.mails).toEqual([]);
  });

  it("notifies a raised ticket's assignee, and its customer when its status moves", async () => {
    const meeting = await request(app).post(`/users/meetings/${actors.customer.id}`).set(actors.user.headers).send({ title: 'Support' });
    await smtp.waitFor((m) => m.length === 2);
    smtp.mails.length = 0;
    const raised = await request(app)
      .post(`/customers/ticket/${meeting.body.InsertedID}`)
      .set(actors.customer.headers)
      .send({ title: 'Invoice <script>', priority: 'high' });
    expect(raised.status).toBe(201);
    const [mail] = await smtp.waitFor((m) => m.length === 1);
    expect(mail).toMatchObject({ to: [actors.user.email], event: 'ticket.raised', subject: 'New ticket: Invoice <script>' });
    expect(mail?.text).toContain('(priority high)');
    expect(mail?.html).toContain('Invoice &lt;script&gt;');

    smtp.mails.length = 0;
    expect(
      (await request(app).patch(`/customers/ticket/${raised.body.id}`).set(actors.user.headers).send({ status: 'in_progress' })).status,
    ).toBe(200);
    const [moved] = await smtp.waitFor((m) => m.length === 1);
    expect(moved).toMatchObject({
      to: [actors.customer.email],
      event: 'ticket.status_changed',
      subject: 'Your ticket is in progress: Invoice <script>',
    });
    expect(moved?.text).toContain('moved from open to in progress');

    // A change that is not a status move tells nobody.
    await settleOutbox();
    smtp.mails.length = 0;
    const queued = await OutboxMessage.countDocuments();
    expect(
      (await request(app).patch(`/customers/ticket/${raised.body.id}`).set(actors.user.headers).send({ priority: 'low' })).status,
    ).toBe(200);
    expect(await OutboxMessage.countDocuments()).toBe(queued);
    await settleOutbox();
    expect(smtp.mails).toEqual([]);
  });

  it('sends an unassigned ticket to every MANAGER and ADMIN', async () => {
    const ticket = await Ticket.findOne({}).lean<TicketRecord>();
    if (!ticket) throw new Error('no ticket');
    await notify.ticketRaised({ ...ticket, assigned_to: null });
    const mails = await smtp.waitFor((m) => m.length === 2);
    expect(recipients(mails)).toEqual([actors.admin.email, actors.manager.email].sort());
  });

  it('sends a security notice without the password when a password changes, to the old address too', async () => {
    const newPassword = 'brand new password 42';
    const res = await request(app)
      .patch(`/customers/${actors.otherCustomer.id}`)
      .set(actors.otherCustomer.headers)
      .send({ password: newPassword, current_password: PASSWORD, email: uniqueEmail('moved') });
    expect(res.status).toBe(200);
    const mails = await smtp.waitFor((m) => m.length === 2);
    expect(recipients(mails)).toEqual([actors.otherCustomer.email, res.body.customer.email].sort());
    for (const mail of mails) {
      expect(mail.subject).toBe('Your password was changed');
      expect(mail.raw).not.toContain(newPassword);
      expect(mail.raw).not.toContain(PASSWORD);
      expect(mail.raw).not.toMatch(/\$2[aby]\$/);
    }

    smtp.mails.length = 0;
    const staff = await request(app).patch(`/users/${actors.otherUser.id}`).set(actors.admin.headers).send({ password: newPassword });
    expect(staff.status).toBe(200);
    const [notice] = await smtp.waitFor((m) => m.length === 1);
    expect(notice).toMatchObject({ to: [actors.otherUser.email], event: 'account.password_changed' });
  });
});

describe('delivery', () => {
  afterEach(async () => {
    if (!smtp.isRunning()) await smtp.start();
  });

  it('answers fast while SMTP is down, keeps the message pending, and delivers it once when SMTP is back', async () => {
    await smtp.stop();
    const email = uniqueEmail('outage');
    const started = Date.now();
    const res = await request(app).post('/customer/signup').send({ name: 'Outage', email, password: PASSWORD });
    expect(res.status).toBe(201);
    expect(Date.now() - started).toBeLessThan(2000);

    const failedOnce = await eventually(async () => {
      const message = await OutboxMessage.findOne({ to: email }).lean();
      return message && message.attempts >= 1 && message.last_error ? message : undefined;
    });
    expect(failedOnce.status).toBe('pending');

    await smtp.start();
    await smtp.waitFor((mails) => mails.some((m) => m.to.includes(email)));
    const sent = await eventually(async () => (await OutboxMessage.findOne({ to: email, status: 'sent' }).lean()) ?? undefined);
    await settleOutbox();
    expect(smtp.to(email)).toHaveLength(1);
    expect(smtp.to(email)[0]?.messageId).toBe(`<outbox-${sent._id.toHexString()}@crm.local>`);
  });

  it('marks a message that always fails as failed after the configured attempts; the admin retry sends it', async () => {
    const email = uniqueEmail('bounce');
    smtp.refuse.add(email);
    await enqueueMail([{ event: 'test.bounce', to: email, subject: 'Bounce', text: 'text', html: '<p>html</p>' }]);
    const failed = await eventually(async () => (await OutboxMessage.findOne({ to: email, status: 'failed' }).lean()) ?? undefined);
    expect(failed).toMatchObject({ attempts: 3, max_attempts: 3, last_error: expect.stringContaining('550') });
    expect(await OutboxClaim.countDocuments({ message: failed._id })).toBe(3);
    const id = failed._id.toHexString();

    const listed = await request(app).get('/admin/outbox?status=failed').set(actors.admin.headers);
    expect(listed.status).toBe(200);
    expect(listed.body.map((m: { id: string }) => m.id)).toContain(id);
    expect(listed.body[0]).not.toHaveProperty('html');
    expect((await request(app).get('/admin/outbox').set(actors.manager.headers)).status).toBe(403);
    expect((await request(app).post(`/admin/outbox/${id}/retry`).set(actors.customer.headers)).status).toBe(403);

    smtp.refuse.delete(email);
    const retried = await request(app).post(`/admin/outbox/${id}/retry`).set(actors.admin.headers);
    expect(retried.status).toBe(200);
    expect(retried.body.outbox).toMatchObject({ id, status: 'pending', attempts: 3, max_attempts: 6 });
    await smtp.waitFor((mails) => mails.some((m) => m.to.includes(email)));
    await eventually(async () => (await OutboxMessage.exists({ _id: failed._id, status: 'sent', attempts: 4 })) ?? undefined);
    await settleOutbox();
    expect(smtp.to(email)).toHaveLength(1);

    const again = await request(app).post(`/admin/outbox/${id}/retry`).set(actors.admin.headers);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('OUTBOX_NOT_FAILED');
    expect(
      (await request(app).post(`/admin/outbox/${new mongoose.Types.ObjectId().toHexString()}/retry`).set(actors.admin.headers)).status,
    ).toBe(404);
    expect((await request(app).post('/admin/outbox/nope/retry').set(actors.admin.headers)).status).toBe(400);
  });

  it('claims again a message whose worker died mid-attempt once its lease has expired', async () => {
    await worker.stop();
    try {
      const email = uniqueEmail('orphan');
      await enqueueMail([{ event: 'test.orphan', to: email, subject: 'Orphan', text: 'text', html: '<p>html</p>' }]);
      const message = await OutboxMessage.findOne({ to: email }).lean();
      if (!message) throw new Error('not enqueued');
      // What a worker killed after claiming attempt 1 leaves behind: its claim, and a lease that has run out.
      await OutboxClaim.create({
        _id: `${message._id.toHexString()}:1`,
        message: message._id,
        attempt: 1,
        worker: 'dead',
        lease_until: new Date(),
        expires_at: new Date(Date.now() + 86_400_000),
      });
      await OutboxMessage.updateOne({ _id: message._id }, { $set: { attempts: 1, next_attempt_at: new Date(Date.now() - 1) } });

      const survivor = newWorker('survivor');
      survivor.start();
      await smtp.waitFor((mails) => mails.some((m) => m.to.includes(email)));
      await survivor.stop();
      expect(await OutboxMessage.findById(message._id).lean()).toMatchObject({ status: 'sent', attempts: 2 });
      expect(smtp.to(email)).toHaveLength(1);
    } finally {
      worker = newWorker('test-worker');
      worker.start();
    }
  });

  it('delivers every message exactly once with two workers on one database', async () => {
    await worker.stop();
    const count = 40;
    const emails = Array.from({ length: count }, (_, i) => uniqueEmail(`pair${i}`));
    await enqueueMail(emails.map((to) => ({ event: 'test.pair', to, subject: 'Pair', text: 'text', html: '<p>html</p>' })));
    const workers = [newWorker('pair-a'), newWorker('pair-b')];
    try {
      for (const w of workers) w.start();
      await outboxSettled(30_000);
    } finally {
      // Stopping waits for the attempts still in progress: after it no further mail can arrive.
      await Promise.all(workers.map((w) => w.stop()));
      worker = newWorker('test-worker');
      worker.start();
    }
    const ids = smtp.mails.filter((m) => m.event === 'test.pair').map((m) => m.messageId);
    expect(ids).toHaveLength(count);
    expect(new Set(ids).size).toBe(count);
    expect(await OutboxMessage.countDocuments({ event: 'test.pair', status: 'sent', attempts: 1 })).toBe(count);
    // One claim per message (no attempt was run twice), and both workers took a share.
    const pairClaims = { worker: mongoose.trusted({ $in: ['pair-a', 'pair-b'] }) };
    expect(await OutboxClaim.countDocuments(pairClaims)).toBe(count);
    expect((await OutboxClaim.distinct('worker', pairClaims)).sort()).toEqual(['pair-a', 'pair-b']);
  });
});
