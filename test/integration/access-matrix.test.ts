import { beforeAll } from '@jest/globals';
import { Customer } from '../../src/models/customer.model';
import { User } from '../../src/models/user.model';
import { buildTestApp } from '../helpers/app';
import { runAccessMatrix, statuses, type AccessCase, type Attempt, type PrincipalName } from '../helpers/access-matrix';
import { createActors, createCustomerActor, createStaff, PASSWORD, uniqueEmail, type Actors } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';
import { buildCustomer, insertCustomer } from '../factories/customer';

// SPEC §3 as data: each accounts route × {anonymous, ADMIN, MANAGER, USER, another USER, CUSTOMER, another
// CUSTOMER}. "user" is the owner/subject of the target where one exists; "otherUser"/"otherCustomer" are
// the same roles looking at someone else's record (404, never 403, so ids cannot be probed). Each write
// names the data it could change (`state`); a refused attempt must leave that data exactly as it was.

useTestDatabase();
const app = buildTestApp();
let actors: Actors;
beforeAll(async () => {
  actors = await createActors(app);
});

/** Targets for destructive rows are created per attempt, so one deletion never affects the next row. */
async function freshUser(): Promise<string> {
  return (await createStaff(app, actors.admin, 'USER', 'victim')).id;
}
async function freshCustomer(): Promise<string> {
  return (await insertCustomer()).id;
}
function signinBody(kind: 'user' | 'customer') {
  return { email: kind === 'user' ? actors.user.email : actors.customer.email, password: PASSWORD };
}
async function freshRefreshToken(): Promise<{ refresh_token: string }> {
  const customer = await createCustomerActor(app, 'refresher');
  return { refresh_token: customer.refreshToken };
}
/** The customer a "customer" principal targets is itself; "otherCustomer" targets the same record. */
const customerRecord = (a: Actors) => `/customers/${a.customer.id}`;
const userRecord = (a: Actors) => `/users/${a.user.id}`;

/** The record id in an attempt's path ("/users/<id>", "/customers/<id>"). */
function targetId({ path }: Attempt): string {
  const id = path.split('/')[2];
  if (!id) throw new Error(`no id in ${path}`);
  return id;
}
function emailOf({ body }: Attempt): string {
  if (!body || !('email' in body) || typeof body.email !== 'string') throw new Error('no e-mail in the attempt');
  return body.email.toLowerCase();
}
// What each kind of write could change. Whole records: a stray write shows in updated_at at the least.
const userState = async (_a: Actors, attempt: Attempt) => ({
  target: await User.findById(targetId(attempt)).lean(),
  admins: await User.countDocuments({ role: 'ADMIN' }),
});
const customerState = async (_a: Actors, attempt: Attempt) => Customer.findById(targetId(attempt)).lean();
const newUserState = async (_a: Actors, attempt: Attempt) => ({
  users: await User.countDocuments(),
  withEmail: await User.countDocuments({ email: emailOf(attempt) }),
});
const newCustomerState = async (_a: Actors, attempt: Attempt) => ({
  customers: await Customer.countDocuments(),
  withEmail: await Customer.countDocuments({ email: emailOf(attempt) }),
});

// A value of its own for each principal's attempt (each differing from the one before), so a refused write
// that slipped through could never be hidden by the previous attempt having written the same value.
const renamed = (_a: Actors, as: PrincipalName) => ({ name: `Renamed by ${as}` });
const phones: Record<PrincipalName, string> = {
  anonymous: '+1 555 0100',
  admin: '+1 555 0101',
  manager: '+1 555 0102',
  user: '+1 555 0103',
  otherUser: '+1 555 0104',
  customer: '+1 555 0105',
  otherCustomer: '+1 555 0106',
};
const customerStatuses: Record<PrincipalName, string> = {
  anonymous: 'active',
  admin: 'prospect',
  manager: 'active',
  user: 'inactive',
  otherUser: 'prospect',
  customer: 'active',
  otherCustomer: 'inactive',
};

const cases: AccessCase[] = [
  {
    method: 'post',
    route: 'POST /user/signup',
    path: () => '/user/signup',
    body: () => ({ name: 'New', email: uniqueEmail('new'), password: PASSWORD }),
    state: newUserState,
    expect: statuses(401, 201, 403, 403, 403, 403, 403),
  },
  {
    method: 'post',
    route: 'POST /user/signup with a role',
    path: () => '/user/signup',
    body: () => ({ name: 'New', email: uniqueEmail('new'), password: PASSWORD, role: 'ADMIN' }),
    state: newUserState,
    expect: statuses(401, 201, 403, 403, 403, 403, 403),
  },
  {
    method: 'post',
    route: 'POST /user/signin',
    path: () => '/user/signin',
    body: () => signinBody('user'),
    expect: statuses(200, 200, 200, 200, 200, 200, 200),
  },
  {
    method: 'post',
    route: 'POST /customer/signup',
    path: () => '/customer/signup',
    body: () => ({ name: 'Self', email: uniqueEmail('self'), password: PASSWORD }),
    expect: statuses(201, 201, 201, 201, 201, 201, 201),
  },
  {
    method: 'post',
    route: 'POST /customer/signin',
    path: () => '/customer/signin',
    body: () => signinBody('customer'),
    expect: statuses(200, 200, 200, 200, 200, 200, 200),
  },
  {
    method: 'post',
    route: 'POST /auth/refresh',
    path: () => '/auth/refresh',
    body: () => freshRefreshToken(),
    expect: statuses(200, 200, 200, 200, 200, 200, 200),
  },
  {
    method: 'post',
    route: 'POST /auth/logout',
    path: () => '/auth/logout',
    body: () => freshRefreshToken(),
    expect: statuses(200, 200, 200, 200, 200, 200, 200),
  },
  { method: 'get', route: 'GET /me', path: () => '/me', expect: statuses(401, 200, 200, 200, 200, 200, 200) },
  { method: 'get', route: 'GET /users', path: () => '/users', expect: statuses(401, 200, 200, 200, 200, 403, 403) },
  { method: 'get', route: 'GET /users/:user_id', path: userRecord, expect: statuses(401, 200, 200, 200, 404, 403, 403) },
  {
    method: 'patch',
    route: 'PATCH /users/:user_id',
    path: userRecord,
    body: renamed,
    state: userState,
    expect: statuses(401, 200, 403, 200, 404, 403, 403),
  },
  {
    method: 'put',
    route: 'PUT /users/:user_id',
    path: userRecord,
    body: renamed,
    state: userState,
    expect: statuses(401, 200, 403, 200, 404, 403, 403),
  },
  {
    method: 'patch',
    route: 'PATCH /users/:user_id with a role (another USER)',
    path: async () => `/users/${await freshUser()}`,
    body: () => ({ role: 'MANAGER' }),
    state: userState,
    expect: statuses(401, 200, 403, 404, 404, 403, 403),
  },
  {
    method: 'patch',
    route: "PATCH /users/:user_id raising one's own role",
    path: (a, as) => `/users/${as === 'anonymous' ? a.user.id : a[as].id}`,
    body: () => ({ role: 'ADMIN' }),
    state: userState,
    expect: statuses(401, 200, 403, 403, 403, 403, 403),
  },
  // Staff without users:manage are refused outright (403), whichever user they name: no id can be probed.
  {
    method: 'delete',
    route: 'DELETE /users/:user_id (another user)',
    path: async () => `/users/${await freshUser()}`,
    state: userState,
    expect: statuses(401, 200, 403, 403, 403, 403, 403),
  },
  { method: 'get', route: 'GET /customers', path: () => '/customers', expect: statuses(401, 200, 200, 200, 200, 403, 403) },
  // A USER sees the groups among its own customers (test/integration/duplicates.test.ts); a customer none.
  {
    method: 'get',
    route: 'GET /customers/duplicates',
    path: () => '/customers/duplicates',
    expect: statuses(401, 200, 200, 200, 200, 403, 403),
  },
  {
    method: 'post',
    route: 'POST /customers',
    path: () => '/customers',
    body: () => buildCustomer(),
    state: newCustomerState,
    expect: statuses(401, 201, 201, 201, 201, 403, 403),
  },
  { method: 'get', route: 'GET /customers/:cust_id', path: customerRecord, expect: statuses(401, 200, 200, 200, 200, 200, 404) },
  {
    method: 'patch',
    route: 'PATCH /customers/:cust_id',
    path: customerRecord,
    body: (_a, as) => ({ phone: phones[as] }),
    state: customerState,
    expect: statuses(401, 200, 200, 200, 200, 200, 404),
  },
  {
    method: 'patch',
    route: 'PATCH /customers/:cust_id status',
    path: customerRecord,
    body: (_a, as) => ({ status: customerStatuses[as] }),
    state: customerState,
    expect: statuses(401, 200, 200, 200, 200, 403, 404),
  },
  {
    method: 'delete',
    route: 'DELETE /customers/:cust_id',
    path: async () => `/customers/${await freshCustomer()}`,
    state: customerState,
    expect: statuses(401, 200, 200, 403, 403, 403, 403),
  },
];

runAccessMatrix('access matrix: accounts', app, () => actors, cases);
