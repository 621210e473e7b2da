import { beforeAll } from '@jest/globals';
import request from 'supertest';
import { ApiKey } from '../../src/models/api-key.model';
import { runAccessMatrix, statuses, type AccessCase, type Attempt } from '../helpers/access-matrix';
import { buildTestApp } from '../helpers/app';
import { createActors, type Actors } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';

// SPEC §8 API keys as data: staff manage their own keys (`api-keys:manage`), an ADMIN anyone's
// (`api-keys:manage-all`); customers have neither. Another user's key answers 404, never 403.

useTestDatabase();
const app = buildTestApp();
let actors: Actors;
beforeAll(async () => {
  actors = await createActors(app);
});

/** A fresh key of the USER's for each attempt, so one revocation never affects the next row. */
async function freshUserKey(a: Actors): Promise<string> {
  const res = await request(app)
    .post('/api-keys')
    .set(a.user.headers)
    .send({ name: 'target', scopes: ['customers:read'] });
  if (res.status !== 201) throw new Error(`key creation failed: ${res.status} ${res.text}`);
  return res.body.id;
}

const keyId = ({ path }: Attempt) => path.split('/')[2] ?? '';
const keyState = async (_a: Actors, attempt: Attempt) => ApiKey.findById(keyId(attempt)).lean();
const keyCount = async () => ApiKey.countDocuments();

const cases: AccessCase[] = [
  {
    method: 'post',
    route: 'POST /api-keys',
    path: () => '/api-keys',
    body: () => ({ name: 'matrix', scopes: ['customers:read'] }),
    expect: statuses(401, 201, 201, 201, 201, 403, 403),
    state: keyCount,
  },
  {
    method: 'get',
    route: 'GET /api-keys',
    path: () => '/api-keys',
    expect: statuses(401, 200, 200, 200, 200, 403, 403),
  },
  {
    method: 'delete',
    route: "DELETE /api-keys/:api_key_id (the USER's key)",
    path: async (a) => `/api-keys/${await freshUserKey(a)}`,
    expect: statuses(401, 200, 404, 200, 404, 403, 403),
    state: keyState,
  },
];

runAccessMatrix('API keys access matrix', app, () => actors, cases);
