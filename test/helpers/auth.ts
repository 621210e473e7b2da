import { randomBytes } from 'node:crypto';
import type { Express } from 'express';
import request from 'supertest';

export const PASSWORD = 'correct horse battery';

export interface Actor {
  id: string;
  email: string;
  password: string;
  token: string;
  refreshToken: string;
  /** The original's header; tests also use Authorization: Bearer where it matters. */
  headers: { token: string };
}

export function uniqueEmail(prefix: string): string {
  return `${prefix}.${randomBytes(4).toString('hex')}@example.com`;
}

export async function signin(app: Express, kind: 'user' | 'customer', email: string, password = PASSWORD) {
  const res = await request(app).post(`/${kind}/signin`).send({ email, password });
  if (res.status !== 200) throw new Error(`signin ${email} failed: ${res.status} ${res.text}`);
  return res.body as { token: string; refresh_token: string };
}

function actor(id: string, email: string, tokens: { token: string; refresh_token: string }, password = PASSWORD): Actor {
  return { id, email, password, token: tokens.token, refreshToken: tokens.refresh_token, headers: { token: tokens.token } };
}

/** The first staff sign-up of a fresh database: becomes ADMIN without a token. */
export async function bootstrapAdmin(app: Express): Promise<Actor> {
  const email = uniqueEmail('admin');
  const res = await request(app).post('/user/signup').send({ name: 'Admin', email, password: PASSWORD });
  if (res.status !== 201) throw new Error(`bootstrap failed: ${res.status} ${res.text}`);
  return actor(res.body.user.id, email, await signin(app, 'user', email));
}

export async function createStaff(
  app: Express,
  admin: Pick<Actor, 'headers'>,
  role: 'ADMIN' | 'MANAGER' | 'USER',
  name = role.toLowerCase(),
): Promise<Actor> {
  const email = uniqueEmail(name);
  const res = await request(app).post('/user/signup').set(admin.headers).send({ name, email, password: PASSWORD, role });
  if (res.status !== 201) throw new Error(`create ${role} failed: ${res.status} ${res.text}`);
  return actor(res.body.user.id, email, await signin(app, 'user', email));
}

export async function createCustomerActor(app: Express, name = 'customer'): Promise<Actor> {
  const email = uniqueEmail(name);
  const res = await request(app).post('/customer/signup').send({ name, email, password: PASSWORD, company: 'ACME' });
  if (res.status !== 201) throw new Error(`customer signup failed: ${res.status} ${res.text}`);
  return actor(res.body.insertId.InsertedID, email, await signin(app, 'customer', email));
}

export interface Actors {
  admin: Actor;
  manager: Actor;
  user: Actor;
  otherUser: Actor;
  customer: Actor;
  otherCustomer: Actor;
}

/** One of each kind of caller the access rules distinguish. */
export async function createActors(app: Express): Promise<Actors> {
  const admin = await bootstrapAdmin(app);
  const [manager, user, otherUser, customer, otherCustomer] = await Promise.all([
    createStaff(app, admin, 'MANAGER'),
    createStaff(app, admin, 'USER', 'user'),
    createStaff(app, admin, 'USER', 'other-user'),
    createCustomerActor(app, 'customer'),
    createCustomerActor(app, 'other-customer'),
  ]);
  return { admin, manager, user, otherUser, customer, otherCustomer };
}
