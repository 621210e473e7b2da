import { beforeAll } from '@jest/globals';
import { buildTestApp } from '../helpers/app';
import { runAccessMatrix, statuses, type AccessCase } from '../helpers/access-matrix';
import { createActors, createCustomerActor, createStaff, PASSWORD, uniqueEmail, type Actors } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';
import { buildCustomer, insertCustomer } from '../factories/customer';

// SPEC §3 as data: each accounts route × {anonymous, ADMIN, MANAGER, USER, another USER, CUSTOMER, another
// CUSTOMER}. "user" is the owner/subject of the target where one exists; "otherUser"/"otherCustomer" are
// the same roles looking at someone else's record (404, never 403, so ids cannot be probed).

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

const cases: AccessCase[] = [
  { method: 'post', route: 'POST /user/signup', path: () => '/user/signup', body: () => ({ name: 'New', email: uniqueEmail('new'), password: PASSWORD }), expect: statuses(401, 201, 403, 403, 403, 403, 403) },
  { method: 'post', route: 'POST /user/signup with a role', path: () => '/user/signup', body: () => ({ name: 'New', email: uniqueEmail('new'), password: PASSWORD, role: 'ADMIN' }), expect: statuses(401, 201, 403, 403, 403, 403, 403) },
  { method: 'post', route: 'POST /user/signin', path: () => '/user/signin', body: () => signinBody('user'), expect: statuses(200, 200, 200, 200, 200, 200, 200) },
  { method: 'post', route: 'POST /customer/signup', path: () => '/customer/signup', body: () => ({ name: 'Self', email: uniqueEmail('self'), password: PASSWORD }), expect: statuses(201, 201, 201, 201, 201, 201, 201) },
  { method: 'post', route: 'POST /customer/signin', path: () => '/customer/signin', body: () => signinBody('customer'), expect: statuses(200, 200, 200, 200, 200, 200, 200) },
  { method: 'post', route: 'POST /auth/refresh', path: () => '/auth/refresh', body: () => freshRefreshToken(), expect: statuses(200, 200, 200, 200, 200, 200, 200) },
  { method: 'post', route: 'POST /auth/logout', path: () => '/auth/logout', body: () => freshRefreshToken(), expect: statuses(200, 200, 200, 200, 200, 200, 200) },
  { method: 'get', route: 'GET /me', path: () => '/me', expect: statuses(401, 200, 200, 200, 200, 200, 200) },
  { method: 'get', route: 'GET /users', path: () => '/users', expect: statuses(401, 200, 200, 200, 200, 403, 403) },
  { method: 'get', route: 'GET /users/:user_id', path: userRecord, expect: statuses(401, 200, 200, 200, 404, 403, 403) },
  { method: 'patch', route: 'PATCH /users/:user_id', path: userRecord, body: () => ({ name: 'Renamed' }), expect: statuses(401, 200, 403, 200, 404, 403, 403) },
  { method: 'put', route: 'PUT /users/:user_id', path: userRecord, body: () => ({ name: 'Renamed' }), expect: statuses(401, 200, 403, 200, 404, 403, 403) },
  { method: 'patch', route: 'PATCH /users/:user_id with a role (another USER)', path: async () => `/users/${await freshUser()}`, body: () => ({ role: 'MANAGER' }), expect: statuses(401, 200, 403, 404, 404, 403, 403) },
  { method: 'patch', route: 'PATCH /users/:user_id raising one\'s own role', path: (a, as) => `/users/${as === 'anonymous' ? a.user.id : a[as].id}`, body: () => ({ role: 'ADMIN' }), expect: statuses(401, 200, 403, 403, 403, 403, 403) },
  { method: 'delete', route: 'DELETE /users/:user_id (another user)', path: async () => `/users/${await freshUser()}`, expect: statuses(401, 200, 403, 404, 404, 403, 403) },
  { method: 'get', route: 'GET /customers', path: () => '/customers', expect: statuses(401, 200, 200, 200, 200, 403, 403) },
  { method: 'post', route: 'POST /customers', path: () => '/customers', body: () => buildCustomer(), expect: statuses(401, 201, 201, 201, 201, 403, 403) },
  { method: 'get', route: 'GET /customers/:cust_id', path: customerRecord, expect: statuses(401, 200, 200, 200, 200, 200, 404) },
  { method: 'patch', route: 'PATCH /customers/:cust_id', path: customerRecord, body: () => ({ phone: '+1 555 0101' }), expect: statuses(401, 200, 200, 200, 200, 200, 404) },
  { method: 'patch', route: 'PATCH /customers/:cust_id status', path: customerRecord, body: () => ({ status: 'lead' }), expect: statuses(401, 200, 200, 200, 200, 403, 404) },
  { method: 'delete', route: 'DELETE /customers/:cust_id', path: async () => `/customers/${await freshCustomer()}`, expect: statuses(401, 200, 200, 403, 403, 403, 403) },
];

runAccessMatrix('access matrix: accounts', app, () => actors, cases);
