import { beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { Customer } from '../../src/models/customer.model';
import { User } from '../../src/models/user.model';
import { buildTestApp } from '../helpers/app';
import { createActors, createStaff, PASSWORD, signin, type Actors } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';
import { insertCustomer } from '../factories/customer';

useTestDatabase();
const app = buildTestApp();
let actors: Actors;
beforeAll(async () => {
  actors = await createActors(app);
});

describe('GET /users', () => {
  it('lists every staff user for ADMIN and MANAGER as a bare array with paging headers', async () => {
    for (const caller of [actors.admin, actors.manager]) {
      const res = await request(app).get('/users').set(caller.headers);
      expect(res.status).toBe(200);
      expect(Array.isArray(res.body)).toBe(true);
      const stored = (await User.find({}, { _id: 1 }).lean()).map((u) => u._id.toHexString()).sort();
      expect(res.body.map((u: { id: string }) => u.id).sort()).toEqual(stored);
      expect(res.headers['x-total-count']).toBe(String(res.body.length));
      expect(res.body[0]).toEqual({
        id: expect.any(String),
        user_id: res.body[0].id,
        name: expect.any(String),
        email: expect.any(String),
        role: expect.stringMatching(/^(ADMIN|MANAGER|USER)$/),
        created_at: expect.any(String),
        updated_at: expect.any(String),
      });
    }
  });

  it('shows a USER only itself', async () => {
    const res = await request(app).get('/users').set(actors.user.headers);
    expect(res.status).toBe(200);
    expect(res.body.map((u: { id: string }) => u.id)).toEqual([actors.user.id]);
    expect(res.headers['x-total-count']).toBe('1');
  });

  it('filters by role and sorts by name descending', async () => {
    // The database is the oracle: every USER (at least the two actors, with distinct names), none of the others.
    const usersByNameDesc = (await User.find({ role: 'USER' }).lean())
      .map((u) => u.name)
      .sort()
      .reverse();
    expect(usersByNameDesc.length).toBeGreaterThanOrEqual(2);
    expect(new Set(usersByNameDesc).size).toBe(usersByNameDesc.length);
    const res = await request(app).get('/users?role=USER&sort=-name').set(actors.admin.headers);
    expect(res.status).toBe(200);
    expect(res.body.map((u: { name: string }) => u.name)).toEqual(usersByNameDesc);
    expect(res.headers['x-total-count']).toBe(String(usersByNameDesc.length));
  });

  it('pages with page/limit, and the next link continues with a keyset cursor', async () => {
    const all = await request(app).get('/users?limit=100').set(actors.admin.headers);
    const allIds = all.body.map((u: { id: string }) => u.id);
    // Two full pages of two exist (the four staff actors), so neither page below can pass empty.
    expect(allIds.length).toBeGreaterThanOrEqual(4);

    const first = await request(app).get('/users?limit=2').set(actors.admin.headers);
    expect(first.body.map((u: { id: string }) => u.id)).toEqual(allIds.slice(0, 2));
    const links = String(first.headers.link);
    expect(links).toMatch(/rel="first"/);
    expect(links).toMatch(/rel="last"/);
    const next = /<([^>]+)>; rel="next"/.exec(links)?.[1];
    expect(next).toMatch(/after=/);
    const second = await request(app).get(next!).set(actors.admin.headers);
    expect(second.status).toBe(200);
    // The next page is exactly the following two rows: nothing skipped, nothing repeated.
    expect(second.body.map((u: { id: string }) => u.id)).toEqual(allIds.slice(2, 4));
  });

  it.each([
    ['limit=0'],
    ['limit=101'],
    ['page=0'],
    ['page=999999999'],
    ['sort=password_hash'],
    ['role=ROOT'],
    ['after=garbage'],
    ['limit=1&limit=2'],
    ['unknown=1'],
  ])('answers 400 for %s', async (query) => {
    const res = await request(app).get(`/users?${query}`).set(actors.admin.headers);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_ERROR');
  });

  it('answers 403 to a customer and 401 without a token', async () => {
    expect((await request(app).get('/users').set(actors.customer.headers)).status).toBe(403);
    expect((await request(app).get('/users')).status).toBe(401);
  });
});

describe('GET /users/:user_id', () => {
  it('answers 404 when a USER reads another user, 400 for a malformed id, 404 for an unknown one', async () => {
    expect((await request(app).get(`/users/${actors.otherUser.id}`).set(actors.user.headers)).status).toBe(404);
    expect((await request(app).get('/users/xyz').set(actors.admin.headers)).status).toBe(400);
    expect(
      (
        await request(app)
          .get(`/users/${'0'.repeat(24)}`)
          .set(actors.admin.headers)
      ).status,
    ).toBe(404);
    const self = await request(app).get(`/users/${actors.user.id}`).set(actors.user.headers);
    expect(self.status).toBe(200);
    expect(self.body.email).toBe(actors.user.email);
  });
});

describe('PATCH and PUT /users/:user_id', () => {
  it('lets a user rename itself, answering the original message plus the user', async () => {
    const res = await request(app)
      .put(`/users/${actors.user.id}`)
      .set(actors.user.headers)
      .set('Content-Type', 'multipart/form-data')
      .send('{\n    "name":"sahil"\n}');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      message: 'user updated successfully',
      user: expect.objectContaining({ id: actors.user.id, name: 'sahil' }),
    });
    expect((await User.findById(actors.user.id).lean())?.name).toBe('sahil');
  });

  it('refuses a USER raising its own role (403) and leaves the role unchanged', async () => {
    const res = await request(app).patch(`/users/${actors.user.id}`).set(actors.user.headers).send({ role: 'ADMIN' });
    expect(res.status).toBe(403);
    expect((await User.findById(actors.user.id).lean())?.role).toBe('USER');
  });

  it('refuses a MANAGER changing someone (403) and a USER changing someone else (404)', async () => {
    expect((await request(app).patch(`/users/${actors.user.id}`).set(actors.manager.headers).send({ name: 'x' })).status).toBe(403);
    expect((await request(app).patch(`/users/${actors.otherUser.id}`).set(actors.user.headers).send({ name: 'x' })).status).toBe(404);
  });

  it("requires the current password to change one's own password", async () => {
    const missing = await request(app)
      .patch(`/users/${actors.otherUser.id}`)
      .set(actors.otherUser.headers)
      .send({ password: 'another password' });
    expect(missing.status).toBe(400);
    expect(missing.body.details).toEqual([expect.objectContaining({ field: 'current_password' })]);
    const wrong = await request(app)
      .patch(`/users/${actors.otherUser.id}`)
      .set(actors.otherUser.headers)
      .send({ password: 'another password', current_password: 'not it at all' });
    expect(wrong.status).toBe(400);
  });

  it("requires the current password to change one's own e-mail, but not an ADMIN changing someone's", async () => {
    const self = await createStaff(app, actors.admin, 'USER', 'mover');
    const without = await request(app).patch(`/users/${self.id}`).set(self.headers).send({ email: 'moved@example.com' });
    expect(without.status).toBe(400);
    expect(without.body.details).toEqual([expect.objectContaining({ field: 'current_password' })]);
    const withPassword = await request(app)
      .patch(`/users/${self.id}`)
      .set(self.headers)
      .send({ email: 'moved@example.com', current_password: PASSWORD });
    expect(withPassword.status).toBe(200);
    const byAdmin = await request(app).patch(`/users/${self.id}`).set(actors.admin.headers).send({ email: 'moved.again@example.com' });
    expect(byAdmin.status).toBe(200);
    expect((await User.findById(self.id).lean())?.email).toBe('moved.again@example.com');
  });

  it("lets an ADMIN change a role, which invalidates that user's tokens", async () => {
    const target = await createStaff(app, actors.admin, 'USER', 'promoted');
    const res = await request(app).patch(`/users/${target.id}`).set(actors.admin.headers).send({ role: 'MANAGER' });
    expect(res.status).toBe(200);
    expect(res.body.user.role).toBe('MANAGER');
    expect((await request(app).get('/me').set(target.headers)).status).toBe(401);
    const fresh = await signin(app, 'user', target.email, PASSWORD);
    expect((await request(app).get('/users').set('token', fresh.token)).body.length).toBeGreaterThan(1);
  });

  it('refuses demoting the last ADMIN (409) and an empty update (400)', async () => {
    const res = await request(app).patch(`/users/${actors.admin.id}`).set(actors.admin.headers).send({ role: 'USER' });
    expect(res.status).toBe(409);
    expect((await request(app).patch(`/users/${actors.admin.id}`).set(actors.admin.headers).send({})).status).toBe(400);
  });

  it('answers 409 when the new e-mail belongs to another user', async () => {
    const res = await request(app)
      .patch(`/users/${actors.manager.id}`)
      .set(actors.admin.headers)
      .send({ email: actors.user.email.toUpperCase() });
    expect(res.status).toBe(409);
  });
});

describe('DELETE /users/:user_id', () => {
  it('needs reassign_to when the user owns customers, then hands them over', async () => {
    const leaving = await createStaff(app, actors.admin, 'USER', 'leaving');
    const owned = await insertCustomer({ owner_id: leaving.id });
    const refused = await request(app).delete(`/users/${leaving.id}`).set(actors.admin.headers);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('HAS_DEPENDENTS');
    expect(await User.exists({ _id: leaving.id })).toBeTruthy();

    expect(
      (
        await request(app)
          .delete(`/users/${leaving.id}?reassign_to=${'0'.repeat(24)}`)
          .set(actors.admin.headers)
      ).status,
    ).toBe(400);
    const res = await request(app).delete(`/users/${leaving.id}?reassign_to=${actors.manager.id}`).set(actors.admin.headers);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: 'User deleted successfully' });
    expect(await User.exists({ _id: leaving.id })).toBeNull();
    expect((await Customer.findById(owned._id).lean())?.owner?.toHexString()).toBe(actors.manager.id);
  });

  it('refuses a MANAGER (403), a USER deleting itself (403), and deleting the last ADMIN (409)', async () => {
    expect((await request(app).delete(`/users/${actors.user.id}`).set(actors.manager.headers)).status).toBe(403);
    expect((await request(app).delete(`/users/${actors.user.id}`).set(actors.user.headers)).status).toBe(403);
    expect((await request(app).delete(`/users/${actors.admin.id}`).set(actors.admin.headers)).status).toBe(409);
  });
});
