import { beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { Interaction } from '../../src/models/interaction.model';
import { User } from '../../src/models/user.model';
import { buildTestApp } from '../helpers/app';
import { bootstrapAdmin, createStaff, type Actor } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';
import {
  originalExamples,
  shapeOf,
  shapeShortfalls,
  withKeys,
  withoutKeys,
  type OriginalExample,
  type Shape,
} from '../helpers/original-readme';

// SPEC §2: the original README's curl examples work as written once real tokens and ids are filled in, and
// answer the shapes it printed. Both come from test/fixtures/original-readme-examples.json, replayed in order
// exactly as curl sends them.

useTestDatabase();
const app = buildTestApp();
const examples = originalExamples();
// The original printed each staff user's stored access token wherever it showed a user: another account's
// credential. This service sends a token only to the one who signs in (SPEC §2: no secret in any response).
const othersToken = ['token'];

let admin: Actor;
const ids = new Map<string, string>();
beforeAll(async () => {
  admin = await bootstrapAdmin(app);
  // The README's example ids, mapped onto real records.
  ids.set('66d321f59940e15df21d71b3', (await createStaff(app, admin, 'USER', 'Nirmal')).id);
  ids.set('66d3233ae3d3bbd29769c153', (await createStaff(app, admin, 'USER', 'temp')).id);
});

function example(method: string, pathPattern: RegExp): OriginalExample {
  const found = examples.find((e) => e.request.method === method && pathPattern.test(e.request.path));
  if (!found) throw new Error(`no ${method} ${pathPattern} example in the fixture`);
  return found;
}

function replay({ request: curl }: OriginalExample) {
  let path = curl.path;
  for (const [readmeId, realId] of ids) path = path.replace(readmeId, realId);
  // Fill in a real token where the route needs one; the public routes get the README's placeholder as is.
  const publicRoute = /^\/(customer\/(signup|signin)|user\/signin)$/.test(path);
  const headers = Object.fromEntries(Object.entries(curl.headers).filter(([name]) => name.toLowerCase() !== 'token'));
  const method = curl.method.toLowerCase() as 'get' | 'post' | 'put' | 'delete';
  const agent = request(app);
  let req = agent[method](path)
    .set(headers)
    .set('token', publicRoute ? (curl.headers.token ?? '') : admin.token);
  if (curl.body !== undefined) req = req.send(curl.body);
  return req;
}

/**
 * The shape the original printed for `ex`, with this service's deliberate differences (SPEC §2): password
 * hashes are never sent; `remove` and `add` name the other differences of that route.
 */
function expectedShape(ex: OriginalExample, changes: { remove?: string[]; add?: Record<string, Shape> } = {}): Shape {
  const shape = withoutKeys(shapeOf(ex.response.body), ['password', ...(changes.remove ?? [])]);
  return changes.add ? withKeys(shape, changes.add) : shape;
}

describe("the original README's curl examples", () => {
  it('are all in the fixture, in the README order', () => {
    expect(examples.map((e) => `${e.request.method} ${e.request.path}`)).toEqual([
      'POST /customer/signup',
      'POST /customer/signin',
      'POST /user/signup',
      'POST /user/signin',
      'POST /users',
      'POST /users/66d321f59940e15df21d71b3',
      'DELETE /users/66d321f59940e15df21d71b3',
      'PUT /users/66d3233ae3d3bbd29769c153',
      'POST /users/meetings/66d324c3e3d3bbd29769c154',
    ]);
  });

  it('customer/signup answers the original shape with 201', async () => {
    const ex = example('POST', /^\/customer\/signup$/);
    const res = await replay(ex);
    expect(res.status).toBe(201);
    expect(shapeOf(res.body)).toEqual(expectedShape(ex));
    expect(res.body).toEqual({
      insertId: { InsertedID: expect.stringMatching(/^[0-9a-f]{24}$/) },
      message: 'Customer created successfully',
    });
    ids.set('66d324c3e3d3bbd29769c154', res.body.insertId.InsertedID);
  });

  it('customer/signin answers the original shape, plus token and refresh_token', async () => {
    const ex = example('POST', /^\/customer\/signin$/);
    const res = await replay(ex);
    expect(res.status).toBe(200);
    expect(shapeShortfalls(expectedShape(ex, { add: { token: 'string', refresh_token: 'string' } }), shapeOf(res.body))).toEqual([]);
    expect(res.body).toMatchObject({
      message: 'Customer logged in successfully',
      customer: { name: 'ramlal', email: 'ram@gmail.com', company: 'TATA', phone: '+91 35636621762', token: expect.any(String) },
    });
  });

  it('user/signup with an ADMIN token creates the ADMIN of the example, in the original shape', async () => {
    const ex = example('POST', /^\/user\/signup$/);
    const res = await replay(ex);
    expect(res.status).toBe(201);
    expect(shapeShortfalls(expectedShape(ex, { remove: othersToken }), shapeOf(res.body))).toEqual([]);
    expect(res.body.user).not.toHaveProperty('token');
    expect(res.body).toMatchObject({
      message: 'User created successfully',
      user: { name: 'sita', email: 'sita@gmail.com', role: 'ADMIN' },
    });
  });

  it('user/signin answers the original shape, plus refresh_token', async () => {
    const ex = example('POST', /^\/user\/signin$/);
    const res = await replay(ex);
    expect(res.status).toBe(200);
    expect(shapeShortfalls(expectedShape(ex, { add: { refresh_token: 'string' } }), shapeOf(res.body))).toEqual([]);
    expect(res.body).toMatchObject({
      msg: 'User logged in successfully',
      token: expect.any(String),
      user: { email: 'sita@gmail.com', token: expect.any(String) },
    });
  });

  it('GET /users, sent by curl as an empty-bodied POST, lists the users in the original shape', async () => {
    const ex = example('POST', /^\/users$/);
    const res = await replay(ex);
    expect(res.status).toBe(200);
    expect(shapeShortfalls(expectedShape(ex, { remove: othersToken }), shapeOf(res.body))).toEqual([]);
    expect(res.body).toHaveLength(await User.countDocuments());
  });

  it('refuses a POST to /users that carries a body (it is not a way to create users)', async () => {
    const res = await request(app).post('/users').set('token', admin.token).send({ name: 'x' });
    expect(res.status).toBe(400);
    expect(await User.countDocuments({ name: 'x' })).toBe(0);
  });

  it('GET /users/:user_id, sent by curl as an empty-bodied POST, reads the user in the original shape', async () => {
    const ex = example('POST', /^\/users\/[0-9a-f]{24}$/);
    const res = await replay(ex);
    expect(res.status).toBe(200);
    expect(shapeShortfalls(expectedShape(ex, { remove: othersToken }), shapeOf(res.body))).toEqual([]);
    expect(res.body).not.toHaveProperty('token');
    expect(res.body).toMatchObject({ id: ids.get('66d321f59940e15df21d71b3'), name: 'Nirmal' });
  });

  it('DELETE /users/:user_id answers the original message', async () => {
    const ex = example('DELETE', /^\/users\//);
    const res = await replay(ex);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(ex.response.body);
    expect(await User.exists({ _id: ids.get('66d321f59940e15df21d71b3') })).toBeNull();
  });

  it('POST /users/meetings/:customer_id with an empty body schedules a meeting and answers {"InsertedID"}', async () => {
    const ex = example('POST', /^\/users\/meetings\//);
    const res = await replay(ex);
    expect(res.status).toBe(201);
    expect(shapeOf(res.body)).toEqual(expectedShape(ex));
    const meeting = await Interaction.findById(res.body.InsertedID).lean();
    expect(meeting).toMatchObject({ type: 'meeting', status: 'scheduled' });
    expect(meeting?.customer.toHexString()).toBe(ids.get('66d324c3e3d3bbd29769c154'));
    expect(meeting?.user.toHexString()).toBe(admin.id);
  });

  it('PUT /users/:user_id renames the user, answering the original message plus the user', async () => {
    const ex = example('PUT', /^\/users\//);
    const res = await replay(ex);
    expect(res.status).toBe(200);
    expect(shapeShortfalls(expectedShape(ex, { add: { user: { name: 'string' } } }), shapeOf(res.body))).toEqual([]);
    expect(res.body).toMatchObject({ ...(ex.response.body as object), user: { name: 'sahil' } });
    expect((await User.findById(ids.get('66d3233ae3d3bbd29769c153')).lean())?.name).toBe('sahil');
  });
});
