import { beforeAll } from '@jest/globals';
import mongoose from 'mongoose';
import request from 'supertest';
import { Customer } from '../../src/models/customer.model';
import { Deletion, TrashItem } from '../../src/models/trash.model';
import { buildTestApp } from '../helpers/app';
import { runAccessMatrix, statuses, type AccessCase, type Attempt } from '../helpers/access-matrix';
import { createActors, type Actors } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';
import { insertCustomer } from '../factories/customer';

// SPEC §8 trash routes as data: ADMIN and MANAGER list, read and restore deletions; only ADMIN purges one.
// Each attempt on a deletion gets a fresh one (a customer deleted by the ADMIN), so a restore or purge never
// affects the next row.

useTestDatabase();
const app = buildTestApp();
let actors: Actors;
beforeAll(async () => {
  actors = await createActors(app);
});

async function freshDeletion(): Promise<string> {
  const customer = await insertCustomer();
  const res = await request(app).delete(`/customers/${customer.id}`).set(actors.admin.headers);
  if (res.status !== 200) throw new Error(`delete failed: ${res.status} ${res.text}`);
  const deletion = await Deletion.findOne({ record_id: new mongoose.Types.ObjectId(customer.id) }).lean();
  if (!deletion) throw new Error('no deletion');
  return deletion._id;
}

const deletionPath = async () => `/trash/${await freshDeletion()}`;
/** The deletion in an attempt's path ("/trash/<id>[/restore]"), its items and whether its customer is live. */
async function deletionState(_a: Actors, { path }: Attempt) {
  const id = path.split('/')[2] ?? '';
  const deletion = await Deletion.findById(id).lean();
  return {
    deletion,
    items: await TrashItem.countDocuments({ deletion_id: id }),
    live: deletion ? await Customer.countDocuments({ _id: deletion.record_id }) : null,
  };
}

const cases: AccessCase[] = [
  { method: 'get', route: 'GET /trash', path: () => '/trash', expect: statuses(401, 200, 200, 403, 403, 403, 403) },
  { method: 'get', route: 'GET /trash/:deletion_id', path: deletionPath, expect: statuses(401, 200, 200, 403, 403, 403, 403) },
  {
    method: 'post',
    route: 'POST /trash/:deletion_id/restore',
    path: async () => `${await deletionPath()}/restore`,
    state: deletionState,
    expect: statuses(401, 200, 200, 403, 403, 403, 403),
  },
  {
    method: 'delete',
    route: 'DELETE /trash/:deletion_id',
    path: deletionPath,
    state: deletionState,
    expect: statuses(401, 200, 403, 403, 403, 403, 403),
  },
];

runAccessMatrix('access matrix: trash', app, () => actors, cases);
