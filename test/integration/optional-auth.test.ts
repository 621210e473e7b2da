import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { buildTestApp } from '../helpers/app';
import { useTestDatabase } from '../helpers/db';
import { originalExamples } from '../helpers/original-readme';

// On a route anonymous callers may use, an unusable token is treated as absent (a valid one still counts):
// the original README's sign-up example carries a placeholder `token: eyJhbGcik`.

useTestDatabase();
const app = buildTestApp();

function example(title: string) {
  const found = originalExamples().find((ex) => ex.title === title);
  if (!found) throw new Error(`no ${title} example in the fixture`);
  return found.request;
}

describe('POST /user/signup with an unusable token', () => {
  it("creates the first ADMIN on a fresh install from the original README's example as written", async () => {
    const curl = example('user/signup');
    expect(curl.headers.token).toBe('eyJhbGcik');
    const res = await request(app).post(curl.path).set(curl.headers).send(curl.body);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ message: 'User created successfully', user: { email: 'sita@gmail.com', role: 'ADMIN' } });
  });

  it('then, with staff in place, answers a placeholder token like no token: 401 (only an ADMIN creates staff)', async () => {
    const body = { name: 'Second', email: 'second@example.com', password: 'second password 1' };
    const withPlaceholder = await request(app).post('/user/signup').set('token', 'eyJhbGcik').send(body);
    const withNone = await request(app).post('/user/signup').send(body);
    expect(withPlaceholder.status).toBe(401);
    expect({ status: withPlaceholder.status, code: withPlaceholder.body.code }).toEqual({
      status: withNone.status,
      code: withNone.body.code,
    });
  });

  it('still counts a valid ADMIN token', async () => {
    const signin = await request(app).post('/user/signin').send({ email: 'sita@gmail.com', password: '$15$lShiva' });
    expect(signin.status).toBe(200);
    const res = await request(app)
      .post('/user/signup')
      .set('token', String(signin.body.token))
      .send({ name: 'Staff', email: 'staff@example.com', password: 'staff password 1', role: 'MANAGER' });
    expect(res.status).toBe(201);
    expect(res.body.user.role).toBe('MANAGER');
  });
});
