import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ObjectId, type MongoClient } from 'mongodb';
import { createMongoClient } from '../../src/database/connect';
import request from 'supertest';
import { PRINCIPAL_TTL_MS } from '../../src/database/principal-cache';
import { TOTAL_TTL_MS } from '../../src/database/count-cache';
import { buildTestApp } from '../helpers/app';
import { createActors, createStaff, type Actors } from '../helpers/auth';
import { testMongoUri, uriWithDb, useTestDatabase } from '../helpers/db';

// The principal behind a token and list totals are kept briefly in process (README "Caches"). This process's
// own writes drop them at once; another instance's writes (here: a separate client) show within the TTL.

const db = useTestDatabase();
const app = buildTestApp();
let actors: Actors;
let other: MongoClient;
beforeAll(async () => {
  actors = await createActors(app);
  other = createMongoClient(uriWithDb(testMongoUri(), db.dbName));
  await other.connect();
});
afterAll(async () => {
  await other.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('short in-process caches', () => {
  it('a demoted or deleted user loses access at once when this instance made the change', async () => {
    const manager = await createStaff(app, actors.admin, 'MANAGER', 'demoted');
    expect((await request(app).get('/users').set(manager.headers)).status).toBe(200); // cached now
    expect((await request(app).patch(`/users/${manager.id}`).set(actors.admin.headers).send({ role: 'USER' })).status).toBe(200);
    expect((await request(app).get('/me').set(manager.headers)).status).toBe(401);

    const user = await createStaff(app, actors.admin, 'USER', 'deleted-here');
    expect((await request(app).get('/me').set(user.headers)).status).toBe(200);
    expect((await request(app).delete(`/users/${user.id}`).set(actors.admin.headers)).status).toBe(200);
    expect((await request(app).get('/me').set(user.headers)).status).toBe(401);
  });

  it('a user deleted by another instance loses access within the TTL', async () => {
    const user = await createStaff(app, actors.admin, 'USER', 'deleted-elsewhere');
    expect((await request(app).get('/me').set(user.headers)).status).toBe(200);
    await other
      .db()
      .collection('users')
      .deleteOne({ _id: new ObjectId(user.id) });
    await sleep(PRINCIPAL_TTL_MS + 100);
    expect((await request(app).get('/me').set(user.headers)).status).toBe(401);
  });

  it("X-Total-Count follows this instance's writes at once and other instances' within the TTL", async () => {
    const list = async () =>
      Number((await request(app).get('/customers?company=Cache%20Co').set(actors.admin.headers)).headers['x-total-count']);
    expect(await list()).toBe(0);
    const created = await request(app)
      .post('/customers')
      .set(actors.admin.headers)
      .send({ name: 'Cached One', email: 'cached.one@example.com', company: 'Cache Co' });
    expect(created.status).toBe(201);
    expect(await list()).toBe(1);
    const now = new Date();
    await other.db().collection('customers').insertOne({
      name: 'Cached Two',
      email: 'cached.two@example.com',
      company: 'Cache Co',
      company_key: 'cache co',
      status: 'lead',
      tags: [],
      token_version: 0,
      search_terms: [],
      created_at: now,
      updated_at: now,
    });
    await sleep(TOTAL_TTL_MS + 100);
    expect(await list()).toBe(2);
  });
});
