import { beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { buildTestApp } from '../helpers/app';
import { createActors, type Actors } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';
import { insertCustomer } from '../factories/customer';
import { insertInteraction } from '../factories/interaction';

useTestDatabase();
const app = buildTestApp();
let actors: Actors;
let acme: string;
let globex: string;
const ids: Record<string, string> = {};

// The user has four interactions with ACME and one with Globex; the other user one with ACME; the manager
// one with the signed-up customer.
beforeAll(async () => {
  actors = await createActors(app);
  acme = (await insertCustomer({ company: 'ACME' }))._id.toHexString();
  globex = (await insertCustomer({ company: 'Globex' }))._id.toHexString();
  const rows = [
    { key: 'sepCall', customer: acme, user: actors.user.id, type: 'call', scheduled_at: new Date('2024-09-02T10:00:00Z') },
    {
      key: 'sepMeeting',
      customer: acme,
      user: actors.user.id,
      type: 'meeting',
      scheduled_at: new Date('2024-09-20T10:00:00Z'),
      status: 'completed',
    },
    { key: 'octTask', customer: acme, user: actors.user.id, type: 'task', due_at: new Date('2024-10-05T00:00:00Z') },
    {
      key: 'novCall',
      customer: acme,
      user: actors.user.id,
      type: 'call',
      scheduled_at: new Date('2024-11-11T10:00:00Z'),
      status: 'cancelled',
    },
    { key: 'globexCall', customer: globex, user: actors.user.id, type: 'call', scheduled_at: new Date('2024-09-15T10:00:00Z') },
    { key: 'otherUsers', customer: acme, user: actors.otherUser.id, type: 'email', scheduled_at: new Date('2024-09-10T10:00:00Z') },
    {
      key: 'managers',
      customer: actors.customer.id,
      user: actors.manager.id,
      type: 'meeting',
      scheduled_at: new Date('2024-09-12T10:00:00Z'),
      notes: 'secret',
    },
  ] as const;
  for (const { key, ...row } of rows) ids[key] = (await insertInteraction(row))._id.toHexString();
});

async function listIds(path: string, headers: { token: string }) {
  const res = await request(app).get(path).set(headers);
  expect(res.status).toBe(200);
  return (res.body as { id: string }[]).map((row) => row.id);
}

describe('GET /interactions', () => {
  it('gives a USER only its own interactions, newest occurs_at first', async () => {
    expect(await listIds(`/interactions?customer_id=${acme}`, actors.user.headers)).toEqual([
      ids.novCall,
      ids.octTask,
      ids.sepMeeting,
      ids.sepCall,
    ]);
  });

  it('gives a MANAGER everyone’s, narrowed by user_id', async () => {
    expect(await listIds(`/interactions?customer_id=${acme}&sort=occurs_at`, actors.manager.headers)).toEqual([
      ids.sepCall,
      ids.otherUsers,
      ids.sepMeeting,
      ids.octTask,
      ids.novCall,
    ]);
    expect(await listIds(`/interactions?customer_id=${acme}&user_id=${actors.otherUser.id}`, actors.manager.headers)).toEqual([
      ids.otherUsers,
    ]);
  });

  it('never lets a filter widen the scope: a USER asking for another user gets nothing', async () => {
    expect(await listIds(`/interactions?user_id=${actors.otherUser.id}`, actors.user.headers)).toEqual([]);
  });

  it('filters by type, status, and from (inclusive) / to (exclusive) on occurs_at', async () => {
    const base = `/interactions?customer_id=${acme}&sort=occurs_at`;
    expect(await listIds(`${base}&type=call`, actors.user.headers)).toEqual([ids.sepCall, ids.novCall]);
    expect(await listIds(`${base}&status=completed`, actors.user.headers)).toEqual([ids.sepMeeting]);
    expect(await listIds(`${base}&from=2024-09-02T10:00:00Z&to=2024-10-05`, actors.user.headers)).toEqual([ids.sepCall, ids.sepMeeting]);
    expect(await listIds(`${base}&from=2024-10-01&to=2024-12-01&type=call`, actors.user.headers)).toEqual([ids.novCall]);
  });

  it('pages with X-Total-Count and Link, and keyset cursors that walk every row once', async () => {
    const first = await request(app).get(`/interactions?customer_id=${acme}&limit=2&sort=occurs_at`).set(actors.manager.headers);
    expect(first.status).toBe(200);
    expect(first.headers['x-total-count']).toBe('5');
    expect(first.headers.link).toContain('rel="next"');
    const seen: string[] = first.body.map((row: { id: string }) => row.id);
    let next = /<([^>]+)>; rel="next"/.exec(first.headers.link ?? '')?.[1];
    while (next) {
      const page = await request(app).get(next).set(actors.manager.headers);
      seen.push(...page.body.map((row: { id: string }) => row.id));
      next = /<([^>]+)>; rel="next"/.exec(page.headers.link ?? '')?.[1];
    }
    expect(seen).toEqual([ids.sepCall, ids.otherUsers, ids.sepMeeting, ids.octTask, ids.novCall]);
    const second = await request(app).get(`/interactions?customer_id=${acme}&limit=2&page=2&sort=occurs_at`).set(actors.manager.headers);
    expect(second.body.map((row: { id: string }) => row.id)).toEqual([ids.sepMeeting, ids.octTask]);
    // Every offset page carries the same total: counted (pages 1, 2), read off the last page (3, 1 of 1),
    // or counted again past the end (4).
    for (const [query, rows] of [
      ['limit=2&page=1', 2],
      ['limit=2&page=2', 2],
      ['limit=2&page=3', 1],
      ['limit=10', 5],
      ['limit=2&page=4', 0],
    ] as const) {
      const res = await request(app).get(`/interactions?customer_id=${acme}&sort=occurs_at&${query}`).set(actors.manager.headers);
      expect({ query, rows: res.body.length, total: res.headers['x-total-count'] }).toEqual({ query, rows, total: '5' });
    }
  });

  it('answers 400 for bad filters, a reversed range, an unknown sort or parameter', async () => {
    for (const query of [
      'type=lunch',
      'status=done',
      'from=yesterday',
      'from=2024-10-01&to=2024-09-01',
      'sort=title',
      'customer_id=42',
      'colour=red',
      'limit=500',
    ]) {
      const res = await request(app).get(`/interactions?${query}`).set(actors.manager.headers);
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
    }
  });
});

describe('GET /users/meetings', () => {
  it("lists only the caller's own interactions, even for a MANAGER", async () => {
    expect(await listIds('/users/meetings', actors.manager.headers)).toEqual([ids.managers]);
    expect(await listIds('/users/meetings?type=call&sort=occurs_at', actors.user.headers)).toEqual([
      ids.sepCall,
      ids.globexCall,
      ids.novCall,
    ]);
  });

  it('lists a customer its own interactions without notes or outcome', async () => {
    const res = await request(app).get('/users/meetings/').set(actors.customer.headers);
    expect(res.status).toBe(200);
    expect(res.body.map((row: { id: string }) => row.id)).toEqual([ids.managers]);
    expect(res.body[0]).not.toHaveProperty('notes');
    expect(res.body[0]).not.toHaveProperty('outcome');
    expect(await listIds('/users/meetings', actors.otherCustomer.headers)).toEqual([]);
  });
});

describe('GET /interactions/user/:user_id', () => {
  it("lists a user's interactions for a MANAGER and for the user itself", async () => {
    const expected = [ids.sepCall, ids.globexCall, ids.sepMeeting, ids.octTask, ids.novCall];
    expect(await listIds(`/interactions/user/${actors.user.id}?sort=occurs_at`, actors.manager.headers)).toEqual(expected);
    expect(await listIds(`/interactions/user/${actors.user.id}?sort=occurs_at`, actors.user.headers)).toEqual(expected);
  });

  it('answers 404 for another user, for customers asking about a user, and for an id that is nobody', async () => {
    expect((await request(app).get(`/interactions/user/${actors.user.id}`).set(actors.otherUser.headers)).status).toBe(404);
    expect((await request(app).get(`/interactions/user/${actors.manager.id}`).set(actors.customer.headers)).status).toBe(404);
    expect((await request(app).get('/interactions/user/0123456789abcdef01234567').set(actors.admin.headers)).status).toBe(404);
    expect((await request(app).get('/interactions/user/not-an-id').set(actors.admin.headers)).status).toBe(400);
  });

  it('answers every refusal with one message and code, so a caller cannot tell user ids from customer ids', async () => {
    const refusals = [
      [actors.user.id, actors.otherUser.headers], // a user the caller may not read
      [actors.manager.id, actors.customer.headers], // a user, asked by a customer
      [actors.customer.id, actors.otherCustomer.headers], // a customer, asked by another customer
      ['0123456789abcdef01234567', actors.admin.headers], // nobody's id
    ] as const;
    for (const [id, headers] of refusals) {
      const res = await request(app).get(`/interactions/user/${id}`).set(headers);
      expect({ id, status: res.status, body: res.body }).toEqual({
        id,
        status: 404,
        body: { error: 'User or customer not found', code: 'NOT_FOUND', details: [] },
      });
    }
  });

  it("answers the original's colliding form: a customer id lists that customer's interactions", async () => {
    expect(await listIds(`/interactions/user/${globex}`, actors.manager.headers)).toEqual([ids.globexCall]);
    expect(await listIds(`/interactions/user/${actors.customer.id}`, actors.customer.headers)).toEqual([ids.managers]);
    expect((await request(app).get(`/interactions/user/${actors.customer.id}`).set(actors.otherCustomer.headers)).status).toBe(404);
  });
});

describe('GET /interactions/customer/:cust_id', () => {
  it("lists a customer's interactions: all for a MANAGER, a USER's own, the customer's own", async () => {
    expect(await listIds(`/interactions/customer/${acme}?sort=occurs_at`, actors.manager.headers)).toHaveLength(5);
    expect(await listIds(`/interactions/customer/${acme}?sort=occurs_at`, actors.otherUser.headers)).toEqual([ids.otherUsers]);
    expect(await listIds(`/interactions/customer/${actors.customer.id}`, actors.customer.headers)).toEqual([ids.managers]);
  });

  it('answers 404 for another customer and for an unknown customer', async () => {
    expect((await request(app).get(`/interactions/customer/${actors.customer.id}`).set(actors.otherCustomer.headers)).status).toBe(404);
    expect((await request(app).get('/interactions/customer/0123456789abcdef01234567').set(actors.manager.headers)).status).toBe(404);
  });
});
