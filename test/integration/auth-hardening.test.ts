import { beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import request from 'supertest';
import { config } from '../../src/config/env';
import { Customer } from '../../src/models/customer.model';
import { LoginAttempt } from '../../src/models/login-attempt.model';
import { OutboxMessage } from '../../src/models/outbox.model';
import { RefreshToken } from '../../src/models/refresh-token.model';
import { User } from '../../src/models/user.model';
import { countedAttempts } from '../../src/services/login-throttle.service';
import { buildTestApp } from '../helpers/app';
import { bootstrapAdmin, createCustomerActor, createStaff, PASSWORD, signin, uniqueEmail, type Actor } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';
import { eventually } from '../helpers/smtp';

// The lock-out and refresh rotation under real concurrency, token answers that must not be cached, and a
// sign-up that does not reveal which addresses are on record.

useTestDatabase();
const app = buildTestApp();
const MAX = config.auth.loginMaxFailures;
let admin: Actor;

beforeAll(async () => {
  admin = await bootstrapAdmin(app);
});

type Kind = 'user' | 'customer';

async function accountFor(kind: Kind, name: string): Promise<Actor> {
  return kind === 'user' ? createStaff(app, admin, 'USER', name) : createCustomerActor(app, name);
}

function countStatuses(responses: { status: number }[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const { status } of responses) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

const signinAs = (kind: Kind, email: string, password: string) => request(app).post(`/${kind}/signin`).send({ email, password });

/**
 * Ends an account's lock (or window) without waiting LOGIN_LOCK_SECONDS: every slot stops counting. The slots'
 * key is a hash of kind and e-mail. No TTL monitor is relied on (FerretDB has none).
 */
async function endLock(kind: Kind, email: string): Promise<void> {
  const key = createHash('sha256').update(`${kind}:${email.toLowerCase()}`).digest('hex');
  await LoginAttempt.updateMany({ key }, { $set: { until: new Date(Date.now() - 1000) } });
}

describe.each(['user', 'customer'] as const)('lock-out under concurrency: POST /%s/signin', (kind) => {
  it(`checks at most LOGIN_MAX_FAILURES of 20 parallel wrong passwords, then answers the right one 429`, async () => {
    const account = await accountFor(kind, `parallel-${kind}`);
    const wrong = await Promise.all(Array.from({ length: 20 }, (_, i) => signinAs(kind, account.email, `wrong password ${i}`)));
    expect(countStatuses(wrong)).toEqual({ 401: MAX, 429: 20 - MAX });

    const right = await signinAs(kind, account.email, PASSWORD);
    expect(right.status).toBe(429);
    expect(right.body).toMatchObject({ code: 'RATE_LIMITED' });
    expect(right.body).not.toHaveProperty('token');
    const retryAfter = Number(right.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(config.auth.loginLockSeconds - 60);
    expect(retryAfter).toBeLessThanOrEqual(config.auth.loginLockSeconds);
  });

  it('refuses the right password sent while wrong ones are still being checked', async () => {
    const account = await accountFor(kind, `inflight-${kind}`);
    const wrong = Promise.all(Array.from({ length: 19 }, (_, i) => signinAs(kind, account.email, `wrong password ${i}`)));
    // Once every slot is taken (checks under way or failed), the right password must not get through.
    await eventually(async () => (await countedAttempts(kind, account.email)) >= MAX);
    const right = await signinAs(kind, account.email, PASSWORD);
    expect(right.status).toBe(429);
    expect(countStatuses(await wrong)).toEqual({ 401: MAX, 429: 19 - MAX });
  });

  it('lets the right password in once the lock has ended, and a success clears the count', async () => {
    const account = await accountFor(kind, `expiry-${kind}`);
    for (let i = 0; i < MAX; i += 1) expect((await signinAs(kind, account.email, 'wrong password')).status).toBe(401);
    expect((await signinAs(kind, account.email, PASSWORD)).status).toBe(429);
    await endLock(kind, account.email);
    expect((await signinAs(kind, account.email, PASSWORD)).status).toBe(200);
    expect(await countedAttempts(kind, account.email)).toBe(0);
    for (let i = 0; i < MAX - 1; i += 1) expect((await signinAs(kind, account.email, 'wrong password')).status).toBe(401);
    expect((await signinAs(kind, account.email, PASSWORD)).status).toBe(200);
  });

  it('after the lock has ended, again checks at most LOGIN_MAX_FAILURES of 20 parallel wrong passwords', async () => {
    const account = await accountFor(kind, `reopen-${kind}`);
    for (let i = 0; i < MAX; i += 1) expect((await signinAs(kind, account.email, 'wrong password')).status).toBe(401);
    expect(await countedAttempts(kind, account.email)).toBe(MAX);
    await endLock(kind, account.email);
    expect(await countedAttempts(kind, account.email)).toBe(0);
    const wrong = await Promise.all(Array.from({ length: 20 }, (_, i) => signinAs(kind, account.email, `wrong password ${i}`)));
    expect(countStatuses(wrong)).toEqual({ 401: MAX, 429: 20 - MAX });
    expect((await signinAs(kind, account.email, PASSWORD)).status).toBe(429);
  });
});

describe('wrong current_password values count as failed sign-ins', () => {
  it('PATCH /users/:id: LOGIN_MAX_FAILURES wrong values lock the account; the right one then answers 429', async () => {
    const user = await accountFor('user', 'pw-guess');
    const before = await User.findById(user.id).select('+password_hash').lean();
    for (let i = 0; i < MAX; i += 1) {
      const res = await request(app)
        .patch(`/users/${user.id}`)
        .set(user.headers)
        .send({ password: 'a brand new password', current_password: `guess ${i}` });
      expect(res.status).toBe(400);
      expect(res.body.details).toEqual([expect.objectContaining({ field: 'current_password' })]);
    }
    const right = await request(app)
      .patch(`/users/${user.id}`)
      .set(user.headers)
      .send({ password: 'a brand new password', current_password: PASSWORD });
    expect(right.status).toBe(429);
    expect(Number(right.headers['retry-after'])).toBeGreaterThan(0);
    const after = await User.findById(user.id).select('+password_hash').lean();
    expect(after?.password_hash).toBe(before?.password_hash);
    expect(after?.token_version).toBe(before?.token_version);
    // Same counter, same lock as sign-in.
    expect((await signinAs('user', user.email, PASSWORD)).status).toBe(429);
  });

  it('PATCH /users/:id: of 12 parallel wrong values at most LOGIN_MAX_FAILURES are checked', async () => {
    const user = await accountFor('user', 'pw-parallel');
    const guesses = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        request(app)
          .patch(`/users/${user.id}`)
          .set(user.headers)
          .send({ password: 'a brand new password', current_password: `guess ${i}` }),
      ),
    );
    expect(countStatuses(guesses)).toEqual({ 400: MAX, 429: 12 - MAX });
  });

  it('shares the counter with sign-in: wrong sign-ins plus one wrong current_password lock the account', async () => {
    const user = await accountFor('user', 'pw-shared');
    for (let i = 0; i < MAX - 1; i += 1) expect((await signinAs('user', user.email, 'wrong password')).status).toBe(401);
    const guess = await request(app)
      .patch(`/users/${user.id}`)
      .set(user.headers)
      .send({ password: 'a brand new password', current_password: 'guess' });
    expect(guess.status).toBe(400);
    expect((await signinAs('user', user.email, PASSWORD)).status).toBe(429);
  });

  it('PATCH /customers/:id (e-mail change by the customer): wrong values lock the account, the right one answers 429', async () => {
    const customer = await accountFor('customer', 'email-guess');
    const newEmail = uniqueEmail('taken-over');
    for (let i = 0; i < MAX; i += 1) {
      const res = await request(app)
        .patch(`/customers/${customer.id}`)
        .set(customer.headers)
        .send({ email: newEmail, current_password: `guess ${i}` });
      expect(res.status).toBe(400);
    }
    const right = await request(app)
      .patch(`/customers/${customer.id}`)
      .set(customer.headers)
      .send({ email: newEmail, current_password: PASSWORD });
    expect(right.status).toBe(429);
    expect(Number(right.headers['retry-after'])).toBeGreaterThan(0);
    expect((await Customer.findById(customer.id).lean())?.email).toBe(customer.email);
    expect((await signinAs('customer', customer.email, PASSWORD)).status).toBe(429);
  });

  it('a right current_password clears the count, as a successful sign-in does', async () => {
    const customer = await accountFor('customer', 'pw-clear');
    for (let i = 0; i < MAX - 1; i += 1) expect((await signinAs('customer', customer.email, 'wrong password')).status).toBe(401);
    const change = await request(app)
      .patch(`/customers/${customer.id}`)
      .set(customer.headers)
      .send({ password: 'another good password', current_password: PASSWORD });
    expect(change.status).toBe(200);
    expect(await countedAttempts('customer', customer.email)).toBe(0);
  });
});

describe('POST /auth/refresh under concurrency', () => {
  it('lets exactly one of two parallel uses of a token through, and revokes the whole sign-in', async () => {
    const customer = await accountFor('customer', 'refresh-race');
    for (let trial = 0; trial < 20; trial += 1) {
      const tokens = await signin(app, 'customer', customer.email);
      const both = await Promise.all([0, 1].map(() => request(app).post('/auth/refresh').send({ refresh_token: tokens.refresh_token })));
      expect({ trial, statuses: both.map((r) => r.status).sort() }).toEqual({ trial, statuses: [200, 401] });
      const winner = both.find((r) => r.status === 200)!;
      // A reuse, even a concurrent one, ends the sign-in: the winner's new refresh token is dead too.
      const next = await request(app).post('/auth/refresh').send({ refresh_token: winner.body.refresh_token });
      expect({ trial, status: next.status }).toEqual({ trial, status: 401 });
      const family = await RefreshToken.find({ token_hash: createHash('sha256').update(tokens.refresh_token).digest('hex') }).lean();
      const members = await RefreshToken.find({ family_id: family[0]!.family_id }).lean();
      expect({ trial, live: members.filter((t) => t.revoked_at === null).length, size: members.length }).toEqual({
        trial,
        live: 0,
        size: 2,
      });
    }
  });

  it('still rotates normally: one use at a time keeps the sign-in alive', async () => {
    const customer = await accountFor('customer', 'refresh-chain');
    let refreshToken = customer.refreshToken;
    for (let i = 0; i < 3; i += 1) {
      const res = await request(app).post('/auth/refresh').send({ refresh_token: refreshToken });
      expect(res.status).toBe(200);
      refreshToken = res.body.refresh_token;
    }
    expect((await request(app).post('/auth/refresh').send({ refresh_token: refreshToken })).status).toBe(200);
  });
});

describe('answers that carry tokens are not cached', () => {
  it('sends Cache-Control: no-store and Pragma: no-cache on sign-up, sign-in and refresh', async () => {
    const email = uniqueEmail('nostore');
    const customerSignup = await request(app).post('/customer/signup').send({ name: 'N', email, password: PASSWORD });
    const customerSignin = await signinAs('customer', email, PASSWORD);
    const answers: [string, request.Response, number][] = [
      ['customer sign-up', customerSignup, 201],
      ['customer sign-in', customerSignin, 200],
      ['user sign-up', await request(app).post('/user/signup').set(admin.headers).send({ name: 'N', email, password: PASSWORD }), 201],
      ['user sign-in', await signinAs('user', email, PASSWORD), 200],
      ['refresh', await request(app).post('/auth/refresh').send({ refresh_token: customerSignin.body.refresh_token }), 200],
      ['failed sign-in', await signinAs('user', email, 'wrong password'), 401],
    ];
    for (const [name, res, status] of answers) {
      const seen = { name, status: res.status, cacheControl: res.headers['cache-control'], pragma: res.headers.pragma };
      expect(seen).toEqual({ name, status, cacheControl: 'no-store', pragma: 'no-cache' });
    }
  });
});

describe('POST /customer/signup with an address already on record', () => {
  async function staffContact(email: string) {
    const res = await request(app).post('/customers').set(admin.headers).send({ name: 'Walk-in Contact', email, company: 'TATA' });
    expect(res.status).toBe(201);
    return String(res.body.id);
  }

  const notices = (email: string) => OutboxMessage.countDocuments({ event: 'customer.signup_existing_contact', to: email });

  it('answers a contact without a password like a new sign-up, changes nothing, and e-mails the address a notice', async () => {
    const email = uniqueEmail('contact');
    const contactId = await staffContact(email);
    const before = await Customer.findById(contactId).select('+password_hash').lean();
    const fresh = await request(app)
      .post('/customer/signup')
      .send({ name: 'Someone', email: uniqueEmail('fresh'), password: PASSWORD });

    const res = await request(app).post('/customer/signup').send({ name: 'Someone', email: email.toUpperCase(), password: PASSWORD });
    expect(res.status).toBe(fresh.status);
    expect(res.body).toEqual({
      insertId: { InsertedID: expect.stringMatching(/^[0-9a-f]{24}$/) },
      message: 'Customer created successfully',
    });
    expect(res.headers.location).toBe(`/customers/${res.body.insertId.InsertedID}`);
    expect(fresh.headers.location).toBe(`/customers/${fresh.body.insertId.InsertedID}`);
    expect(res.body.insertId.InsertedID).not.toBe(contactId);
    expect(await Customer.exists({ _id: res.body.insertId.InsertedID })).toBeNull();
    expect(await Customer.findById(contactId).select('+password_hash').lean()).toEqual(before);
    expect(await Customer.countDocuments({ email })).toBe(1);
    expect((await signinAs('customer', email, PASSWORD)).status).toBe(401);

    const [notice] = await OutboxMessage.find({ event: 'customer.signup_existing_contact', to: email }).lean();
    expect(notice).toMatchObject({ subject: 'About your sign-up request', text: expect.stringContaining('no new account was created') });
    expect(notice!.text).toContain('Hello Walk-in Contact,');
  });

  it('sends that notice at most once an hour per address', async () => {
    const email = uniqueEmail('contact-repeat');
    await staffContact(email);
    for (let i = 0; i < 3; i += 1)
      expect((await request(app).post('/customer/signup').send({ name: 'X', email, password: PASSWORD })).status).toBe(201);
    expect(await notices(email)).toBe(1);
  });

  it('keeps 409 for an address that already signs in', async () => {
    const customer = await accountFor('customer', 'registered');
    const res = await request(app).post('/customer/signup').send({ name: 'Again', email: customer.email, password: PASSWORD });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('DUPLICATE');
    expect(await notices(customer.email)).toBe(0);
  });

  it('is rate-limited per client', async () => {
    const limited = buildTestApp({ rateLimit: { auth: { windowMs: 60_000, limit: 2 }, global: { windowMs: 60_000, limit: 1000 } } });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      statuses.push(
        (
          await request(limited)
            .post('/customer/signup')
            .send({ name: 'R', email: uniqueEmail('limited'), password: PASSWORD })
        ).status,
      );
    }
    expect(statuses).toEqual([201, 201, 429]);
    expect(await Customer.countDocuments({ email: /^limited\./ })).toBe(2);
  });
});
