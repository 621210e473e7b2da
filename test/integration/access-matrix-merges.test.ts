import { beforeAll } from '@jest/globals';

import request from 'supertest';
import { Customer } from '../../src/models/customer.model';
import { Merge } from '../../src/models/merge.model';
import { buildTestApp } from '../helpers/app';
import { runAccessMatrix, statuses, type AccessCase, type Attempt } from '../helpers/access-matrix';
import { createActors, uniqueEmail, type Actors } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';

// SPEC §3 and §8 as data: the merge routes × every kind of caller. Merging is `customers:merge` (ADMIN and
// MANAGER): 401 without a token, 403 for a USER and for customers; a refused merge or undo changes nothing.

useTestDatabase();
const app = buildTestApp();
let actors: Actors;
beforeAll(async () => {
  actors = await createActors(app);
});

const adminAndManager = (ok: number) => statuses(401, ok, ok, 403, 403, 403, 403);

async function freshCustomer(): Promise<string> {
  const res = await request(app)
    .post('/customers')
    .set(actors.admin.headers)
    .send({ name: 'Dup', email: uniqueEmail('dup') });
  if (res.status !== 201) throw new Error(`customer not created: ${res.status}`);
  return res.body.id;
}

/** A fresh target and source per attempt, so one attempt's merge never affects the next. */
async function freshMergePath(): Promise<string> {
  return `/customers/${await freshCustomer()}/merge`;
}

async function freshMerge(): Promise<string> {
  const target = await freshCustomer();
  const res = await request(app)
    .post(`/customers/${target}/merge`)
    .set(actors.admin.headers)
    .send({ source_ids: [await freshCustomer()] });
  if (res.status !== 201) throw new Error(`merge failed: ${res.status} ${res.text}`);
  return res.body.merge_id;
}

const mergeIn = (attempt: Attempt) => /\/merges\/([0-9a-f-]{36})/.exec(attempt.path)?.[1];
async function mergeState(_actors: Actors, attempt: Attempt) {
  const id = mergeIn(attempt);
  return {
    customers: await Customer.countDocuments(),
    merges: await Merge.countDocuments(),
    merge: id ? await Merge.findById(id).lean() : null,
  };
}

const cases: AccessCase[] = [
  {
    method: 'post',
    route: 'POST /customers/:cust_id/merge',
    path: freshMergePath,
    body: async () => ({ source_ids: [await freshCustomer()] }),
    expect: adminAndManager(201),
    state: mergeState,
  },
  {
    method: 'get',
    route: 'GET /merges/:merge_id',
    path: async () => `/merges/${await freshMerge()}`,
    expect: adminAndManager(200),
  },
  {
    method: 'post',
    route: 'POST /merges/:merge_id/undo',
    path: async () => `/merges/${await freshMerge()}/undo`,
    expect: adminAndManager(200),
    state: mergeState,
  },
];

runAccessMatrix('merge routes', app, () => actors, cases);
