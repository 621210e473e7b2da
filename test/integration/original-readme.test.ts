import { beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { Interaction } from '../../src/models/interaction.model';
import { User } from '../../src/models/user.model';
import { buildTestApp } from '../helpers/app';
import { bootstrapAdmin, createStaff, type Actor } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';
import { originalCurlCommands, type CurlCommand } from '../helpers/original-readme';

// SPEC §2: the original README's curl examples work as written once real tokens and ids are filled in.
// The commands are read from the README itself and replayed in order, exactly as curl would send them.

useTestDatabase();
const app = buildTestApp();
const curls = originalCurlCommands();

let admin: Actor;
const ids = new Map<string, string>();
beforeAll(async () => {
  admin = await bootstrapAdmin(app);
  // The README's example ids, mapped onto real records.
  ids.set('66d321f59940e15df21d71b3', (await createStaff(app, admin, 'USER', 'Nirmal')).id);
  ids.set('66d3233ae3d3bbd29769c153', (await createStaff(app, admin, 'USER', 'temp')).id);
});

function replay(curl: CurlCommand) {
  let path = curl.path;
  for (const [readmeId, realId] of ids) path = path.replace(readmeId, realId);
  // Fill in a real token where the route needs one; the public routes get the README's placeholder as is.
  const publicRoute = /^\/(customer\/(signup|signin)|user\/signin)$/.test(path);
  const headers = { ...curl.headers, token: publicRoute ? (curl.headers.token ?? '') : admin.token };
  let req = request(app)[curl.method.toLowerCase() as 'get' | 'post' | 'put' | 'delete'](path).set(headers);
  if (curl.data !== undefined) req = req.send(curl.data);
  return req;
}

function find(method: string, pathPattern: RegExp): CurlCommand {
  const curl = curls.find((c) => c.method === method && pathPattern.test(c.path));
  if (!curl) throw new Error(`no ${method} ${pathPattern} example in the README`);
  return curl;
}

describe("the original README's curl examples", () => {
  it('are all found in the README', () => {
    expect(curls.map((c) => `${c.method} ${c.path}`)).toEqual([
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
    const res = await replay(find('POST', /^\/customer\/signup$/));
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ insertId: { InsertedID: expect.stringMatching(/^[0-9a-f]{24}$/) }, message: 'Customer created successfully' });
    ids.set('66d324c3e3d3bbd29769c154', res.body.insertId.InsertedID);
  });

  it('customer/signin answers the original shape', async () => {
    const res = await replay(find('POST', /^\/customer\/signin$/));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ message: 'Customer logged in successfully', customer: { name: 'ramlal', email: 'ram@gmail.com', token: expect.any(String) } });
  });

  it('user/signup with an ADMIN token creates the ADMIN of the example', async () => {
    const res = await replay(find('POST', /^\/user\/signup$/));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ message: 'User created successfully', user: { name: 'sita', email: 'sita@gmail.com', role: 'ADMIN' } });
  });

  it('user/signin answers the original shape', async () => {
    const res = await replay(find('POST', /^\/user\/signin$/));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ msg: 'User logged in successfully', token: expect.any(String), user: { email: 'sita@gmail.com', token: expect.any(String) } });
  });

  it("GET /users, sent by curl as an empty-bodied POST, lists the users", async () => {
    const res = await replay(find('POST', /^\/users$/));
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(await User.countDocuments());
  });

  it('refuses a POST to /users that carries a body (it is not a way to create users)', async () => {
    const res = await request(app).post('/users').set('token', admin.token).send({ name: 'x' });
    expect(res.status).toBe(400);
    expect(await User.countDocuments({ name: 'x' })).toBe(0);
  });

  it('GET /users/:user_id, sent by curl as an empty-bodied POST, reads the user', async () => {
    const res = await replay(find('POST', /^\/users\/[0-9a-f]{24}$/));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: ids.get('66d321f59940e15df21d71b3'), name: 'Nirmal' });
  });

  it('DELETE /users/:user_id answers the original message', async () => {
    const res = await replay(find('DELETE', /^\/users\//));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: 'User deleted successfully' });
    expect(await User.exists({ _id: ids.get('66d321f59940e15df21d71b3') })).toBeNull();
  });

  it('POST /users/meetings/:customer_id with an empty body schedules a meeting and answers {"InsertedID"}', async () => {
    const res = await replay(find('POST', /^\/users\/meetings\//));
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ InsertedID: expect.stringMatching(/^[0-9a-f]{24}$/) });
    const meeting = await Interaction.findById(res.body.InsertedID).lean();
    expect(meeting).toMatchObject({ type: 'meeting', status: 'scheduled' });
    expect(meeting?.customer.toHexString()).toBe(ids.get('66d324c3e3d3bbd29769c154'));
    expect(meeting?.user.toHexString()).toBe(admin.id);
  });

  it('PUT /users/:user_id renames the user', async () => {
    const res = await replay(find('PUT', /^\/users\//));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ message: 'user updated successfully', user: { name: 'sahil' } });
    expect((await User.findById(ids.get('66d3233ae3d3bbd29769c153')).lean())?.name).toBe('sahil');
  });
});
