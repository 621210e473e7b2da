import { describe, expect, it } from '@jest/globals';
import jwt from 'jsonwebtoken';
import mongoose from 'mongoose';
import request from 'supertest';
import { config } from '../../src/config/env';
import { Customer } from '../../src/models/customer.model';
import { RefreshToken } from '../../src/models/refresh-token.model';
import { User } from '../../src/models/user.model';
import { buildTestApp } from '../helpers/app';
import { createCustomerActor, createStaff, PASSWORD, signin, uniqueEmail } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';

useTestDatabase();
const app = buildTestApp();

function sign(payload: object, options: jwt.SignOptions = {}, secret = config.auth.jwtSecret) {
  return jwt.sign(payload, secret, {
    algorithm: 'HS256',
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    expiresIn: 600,
    ...options,
  });
}

describe('staff bootstrap and POST /user/signup', () => {
  it('makes the first staff account an ADMIN without a token, then requires an ADMIN token', async () => {
    const first = await request(app)
      .post('/user/signup')
      .send({ name: 'First', email: uniqueEmail('first'), password: PASSWORD });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ message: 'User created successfully', user: expect.objectContaining({ role: 'ADMIN' }) });

    const anonymous = await request(app)
      .post('/user/signup')
      .send({ name: 'Second', email: uniqueEmail('second'), password: PASSWORD });
    expect(anonymous.status).toBe(401);
    expect(await User.countDocuments()).toBe(1);
  });

  it("accepts the original README's body verbatim (PascalCase keys, JSON labelled multipart) from an ADMIN", async () => {
    const admin = await signin(app, 'user', (await User.findOne({ role: 'ADMIN' }).lean())!.email);
    const res = await request(app)
      .post('/user/signup')
      .set('token', admin.token)
      .set('Content-Type', 'multipart/form-data')
      .send(
        '{\n        "Email": "sita@gmail.com",\n        "Password": "$15$lShiva",\n        "name":"sita",\n        "role":"ADMIN"\n    }',
      );
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      message: 'User created successfully',
      user: {
        id: expect.stringMatching(/^[0-9a-f]{24}$/),
        user_id: res.body.user.id,
        name: 'sita',
        email: 'sita@gmail.com',
        role: 'ADMIN',
        created_at: expect.any(String),
        updated_at: expect.any(String),
      },
    });
    const stored = await User.findOne({ email: 'sita@gmail.com' }).select('+password_hash').lean();
    expect(stored?.password_hash).toMatch(/^\$2[aby]\$04\$/);
  });

  it('refuses a role from anyone but an ADMIN (403) and a duplicate e-mail (409)', async () => {
    const admin = await signin(app, 'user', 'sita@gmail.com', '$15$lShiva');
    const manager = await createStaff(app, { headers: { token: admin.token } }, 'MANAGER');
    const escalation = await request(app)
      .post('/user/signup')
      .set(manager.headers)
      .send({ name: 'x', email: uniqueEmail('x'), password: PASSWORD, role: 'ADMIN' });
    expect(escalation.status).toBe(403);
    const duplicate = await request(app)
      .post('/user/signup')
      .set('token', admin.token)
      .send({ name: 'dup', email: 'SITA@gmail.com', password: PASSWORD });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.code).toBe('DUPLICATE');
  });

  it('refuses passwords outside 8-72 bytes', async () => {
    const admin = await signin(app, 'user', 'sita@gmail.com', '$15$lShiva');
    for (const password of ['short', 'é'.repeat(37)]) {
      const res = await request(app)
        .post('/user/signup')
        .set('token', admin.token)
        .send({ name: 'p', email: uniqueEmail('p'), password });
      expect(res.status).toBe(400);
      expect(res.body.details).toEqual([expect.objectContaining({ field: 'password' })]);
    }
  });
});

describe('POST /user/signin', () => {
  it("answers the original's shape plus refresh_token, for the README's request verbatim", async () => {
    const res = await request(app)
      .post('/user/signin')
      .set('token', 'eyJhbGciOiTHGvAgYVxETlARgxBtGbUdMsBuwJltNsTbH41k')
      .set('Content-Type', 'multipart/form-data')
      .send('{\n        "Email": "sita@gmail.com",\n        "Password": "$15$lShiva"\n    }');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      msg: 'User logged in successfully',
      token: expect.any(String),
      refresh_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 3600,
      user: expect.objectContaining({ email: 'sita@gmail.com', role: 'ADMIN', token: res.body.token, user_id: res.body.user.id }),
    });
    const claims = jwt.decode(res.body.token, { complete: true });
    expect(claims?.header.alg).toBe('HS256');
    expect(claims?.payload).toMatchObject({
      sub: res.body.user.id,
      typ: 'user',
      role: 'ADMIN',
      ver: 0,
      iss: 'crm-api',
      aud: 'crm-clients',
    });
  });

  it('gives the same 401 for an unknown e-mail and a wrong password', async () => {
    const unknown = await request(app).post('/user/signin').send({ email: 'nobody@example.com', password: PASSWORD });
    const wrong = await request(app).post('/user/signin').send({ email: 'sita@gmail.com', password: 'wrong password' });
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
  });

  it('rejects operator injection with 400', async () => {
    const res = await request(app)
      .post('/user/signin')
      .send({ Email: { $gt: '' }, Password: { $gt: '' } });
    expect(res.status).toBe(400);
    expect(res.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['email', 'password']);
  });

  it('locks an account after repeated failures (429 with Retry-After), also for unknown e-mails', async () => {
    const user = await createStaff(
      app,
      { headers: { token: (await signin(app, 'user', 'sita@gmail.com', '$15$lShiva')).token } },
      'USER',
      'locked',
    );
    for (let i = 0; i < config.auth.loginMaxFailures; i += 1) {
      expect((await request(app).post('/user/signin').send({ email: user.email, password: 'wrong password' })).status).toBe(401);
    }
    const locked = await request(app).post('/user/signin').send({ email: user.email, password: PASSWORD });
    expect(locked.status).toBe(429);
    expect(locked.body.code).toBe('RATE_LIMITED');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);

    const ghost = uniqueEmail('ghost');
    for (let i = 0; i < config.auth.loginMaxFailures; i += 1)
      await request(app).post('/user/signin').send({ email: ghost, password: 'nope nope' });
    expect((await request(app).post('/user/signin').send({ email: ghost, password: 'nope nope' })).status).toBe(429);
  });

  it('has a stricter per-client limit on sign-in and sign-up', async () => {
    const limited = buildTestApp({ rateLimit: { auth: { windowMs: 60_000, limit: 2 }, global: { windowMs: 60_000, limit: 1000 } } });
    await request(limited).post('/user/signin').send({ email: 'a@example.com', password: 'whatever1' });
    await request(limited).post('/customer/signup').send({});
    const third = await request(limited).post('/customer/signin').send({ email: 'a@example.com', password: 'whatever1' });
    expect(third.status).toBe(429);
    expect(third.headers['retry-after']).toBeDefined();
    expect((await request(limited).get('/me')).status).toBe(401);
  });
});

describe('customer sign-up and sign-in', () => {
  it("accepts the original README's customer sign-up verbatim and answers its shape with 201", async () => {
    const res = await request(app)
      .post('/customer/signup')
      .set('token', 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJYVxETlARgxBtGbUdMsBuwJltNsTbH41k')
      .set('Content-Type', 'multipart/form-data')
      .send(
        '{\n         "Name": "ramlal",\n         "Email": "ram@gmail.com",\n         "Password": "$2a$15$lShiva",\n         "Company": "TATA",\n         "Phone": "+91 35636621762"\n     }',
      );
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      insertId: { InsertedID: expect.stringMatching(/^[0-9a-f]{24}$/) },
      message: 'Customer created successfully',
    });
    const stored = await Customer.findById(res.body.insertId.InsertedID).lean();
    expect(stored).toMatchObject({ name: 'ramlal', email: 'ram@gmail.com', company: 'TATA', phone: '+91 35636621762', status: 'lead' });
  });

  it("signs in with the README's request and answers the original's shape plus tokens, without the password", async () => {
    const res = await request(app)
      .post('/customer/signin')
      .set('Content-Type', 'multipart/form-data')
      .send('{\n         "Email": "ram@gmail.com",\n         "Password": "$2a$15$lShiva"\n     }');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      message: 'Customer logged in successfully',
      token: expect.any(String),
      refresh_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 3600,
      customer: expect.objectContaining({
        name: 'ramlal',
        email: 'ram@gmail.com',
        company: 'TATA',
        phone: '+91 35636621762',
        token: res.body.token,
      }),
    });
    expect(res.body.customer.customer_id).toBe(res.body.customer.id);
    expect(res.body.customer).not.toHaveProperty('password');
  });

  it('refuses a role at customer sign-up with 403', async () => {
    const res = await request(app)
      .post('/customer/signup')
      .send({ name: 'x', email: uniqueEmail('x'), password: PASSWORD, role: 'ADMIN' });
    expect(res.status).toBe(403);
  });

  it('answers 409 for a duplicate customer e-mail', async () => {
    const res = await request(app).post('/customer/signup').send({ name: 'y', email: 'RAM@gmail.com', password: PASSWORD });
    expect(res.status).toBe(409);
  });
});

describe('access tokens', () => {
  it('accepts the token header and Authorization: Bearer alike', async () => {
    const admin = await signin(app, 'user', 'sita@gmail.com', '$15$lShiva');
    expect((await request(app).get('/me').set('token', admin.token)).status).toBe(200);
    const bearer = await request(app).get('/me').set('Authorization', `Bearer ${admin.token}`);
    expect(bearer.status).toBe(200);
    expect(bearer.body).toMatchObject({
      type: 'user',
      email: 'sita@gmail.com',
      role: 'ADMIN',
      permissions: expect.arrayContaining(['users:manage']),
    });
  });

  it('refuses alg:none, a wrong secret, an expired, a tampered, a malformed token and one without exp or iat with 401', async () => {
    const admin = await User.findOne({ email: 'sita@gmail.com' }).lean();
    const claims = { sub: admin!._id.toHexString(), typ: 'user', role: 'ADMIN', ver: admin!.token_version };
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const body = Buffer.from(
      JSON.stringify({ ...claims, iss: 'crm-api', aud: 'crm-clients', exp: Math.floor(Date.now() / 1000) + 600 }),
    ).toString('base64url');
    const valid = sign(claims);
    const [h, p, s] = valid.split('.');
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), role: 'ADMIN', sub: '0'.repeat(24) })).toString('base64url')}.${s}`;
    const cases = {
      none: `${header}.${body}.`,
      wrongSecret: sign(claims, {}, 'another-secret-that-is-long-enough-0123456789'),
      expired: jwt.sign({ ...claims, exp: Math.floor(Date.now() / 1000) - 10 }, config.auth.jwtSecret, {
        algorithm: 'HS256',
        issuer: config.auth.issuer,
        audience: config.auth.audience,
      }),
      wrongAudience: sign(claims, { audience: 'someone-else' }),
      tampered,
      malformed: 'not.a.jwt',
      // Correctly signed, but one would never expire and the other has no issue time.
      withoutExp: jwt.sign(claims, config.auth.jwtSecret, {
        algorithm: 'HS256',
        issuer: config.auth.issuer,
        audience: config.auth.audience,
      }),
      withoutIat: jwt.sign({ ...claims, exp: Math.floor(Date.now() / 1000) + 600 }, config.auth.jwtSecret, {
        algorithm: 'HS256',
        issuer: config.auth.issuer,
        audience: config.auth.audience,
        noTimestamp: true,
      }),
    };
    expect((await request(app).get('/me').set('token', valid)).status).toBe(200);
    for (const [name, token] of Object.entries(cases)) {
      const res = await request(app).get('/me').set('token', token);
      expect({ name, status: res.status }).toEqual({ name, status: 401 });
    }
  });

  it('refuses an access token issued before a password change', async () => {
    const admin = await signin(app, 'user', 'sita@gmail.com', '$15$lShiva');
    const user = await createStaff(app, { headers: { token: admin.token } }, 'USER', 'pwchange');
    const change = await request(app)
      .patch(`/users/${user.id}`)
      .set(user.headers)
      .send({ password: 'a brand new password', current_password: PASSWORD });
    expect(change.status).toBe(200);
    expect((await request(app).get('/me').set(user.headers)).status).toBe(401);
    expect((await request(app).post('/auth/refresh').send({ refresh_token: user.refreshToken })).status).toBe(401);
    expect(
      (
        await request(app)
          .get('/me')
          .set('token', (await signin(app, 'user', user.email, 'a brand new password')).token)
      ).status,
    ).toBe(200);
  });

  it('refuses tokens of a deleted account', async () => {
    const admin = await signin(app, 'user', 'sita@gmail.com', '$15$lShiva');
    const user = await createStaff(app, { headers: { token: admin.token } }, 'USER', 'deleted');
    expect((await request(app).delete(`/users/${user.id}`).set('token', admin.token)).status).toBe(200);
    expect((await request(app).get('/me').set(user.headers)).status).toBe(401);
    expect((await request(app).post('/auth/refresh').send({ refresh_token: user.refreshToken })).status).toBe(401);
  });
});

describe('refresh tokens', () => {
  it('rotates on every use, and a reused token revokes the whole sign-in', async () => {
    const customer = await createCustomerActor(app, 'rotating');
    const first = await request(app).post('/auth/refresh').send({ refresh_token: customer.refreshToken });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ token: expect.any(String), refresh_token: expect.any(String), token_type: 'Bearer', expires_in: 3600 });
    expect(first.body.refresh_token).not.toBe(customer.refreshToken);
    expect((await request(app).get('/me').set('token', first.body.token)).body.type).toBe('customer');

    const replay = await request(app).post('/auth/refresh').send({ refresh_token: customer.refreshToken });
    expect(replay.status).toBe(401);
    // The legitimate successor is revoked too: the sign-in is over.
    expect((await request(app).post('/auth/refresh').send({ refresh_token: first.body.refresh_token })).status).toBe(401);
    const stored = await RefreshToken.find({ principal_id: new mongoose.Types.ObjectId(customer.id) }).lean();
    expect(stored.length).toBeGreaterThanOrEqual(2);
    expect(stored.every((t) => t.revoked_at !== null)).toBe(true);
    expect(JSON.stringify(stored)).not.toContain(customer.refreshToken);
  });

  it('logout revokes the refresh token; logout all invalidates access tokens too', async () => {
    const customer = await createCustomerActor(app, 'logout');
    expect((await request(app).post('/auth/logout').send({ refresh_token: customer.refreshToken })).status).toBe(200);
    expect((await request(app).post('/auth/refresh').send({ refresh_token: customer.refreshToken })).status).toBe(401);
    expect((await request(app).get('/me').set(customer.headers)).status).toBe(200);

    const again = await signin(app, 'customer', customer.email);
    expect((await request(app).post('/auth/logout').set('token', again.token).send({ all: true })).status).toBe(200);
    expect((await request(app).get('/me').set('token', again.token)).status).toBe(401);
    expect((await request(app).post('/auth/refresh').send({ refresh_token: again.refresh_token })).status).toBe(401);
  });

  it('answers 401 for an unknown refresh token and 400 for a missing one', async () => {
    expect((await request(app).post('/auth/refresh').send({ refresh_token: 'made-up' })).status).toBe(401);
    expect((await request(app).post('/auth/refresh').send({})).status).toBe(400);
  });
});
