import { beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { engineCapabilities } from '../../src/database/capabilities';
import { Customer } from '../../src/models/customer.model';
import { buildTestApp } from '../helpers/app';
import { createActors, PASSWORD, signin, type Actors } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';
import { buildCustomer, insertCustomer } from '../factories/customer';

useTestDatabase();
const app = buildTestApp();
let actors: Actors;
beforeAll(async () => {
  actors = await createActors(app);
});

const idsOf = (body: { id: string }[]) => body.map((c) => c.id);

describe('POST /customers', () => {
  it('creates a customer for a manager, owned by the caller by default', async () => {
    const input = buildCustomer({ company: 'TATA', tags: ['vip'] });
    const res = await request(app).post('/customers').set(actors.manager.headers).send(input);
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/customers/${res.body.id}`);
    expect(res.body).toEqual({
      id: expect.any(String),
      customer_id: res.body.id,
      name: input.name,
      email: input.email,
      company: 'TATA',
      phone: '+91 35636621762',
      status: 'lead',
      owner_id: actors.manager.id,
      tags: ['vip'],
      address: null,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect(await Customer.countDocuments({ email: input.email, company: 'TATA' })).toBe(1);
  });

  it('answers 400 for an unknown owner, a bad status and a bad phone, one detail each', async () => {
    const res = await request(app)
      .post('/customers')
      .set(actors.user.headers)
      .send(buildCustomer({ owner_id: '0'.repeat(24), status: 'vip' as never, phone: 'call me' }));
    expect(res.status).toBe(400);
    expect(res.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['phone', 'status']);
    const owner = await request(app)
      .post('/customers')
      .set(actors.user.headers)
      .send(buildCustomer({ owner_id: '0'.repeat(24) }));
    expect(owner.status).toBe(400);
    expect(owner.body.details).toEqual([expect.objectContaining({ field: 'owner_id' })]);
  });

  it('answers 409 for a duplicate e-mail, whatever its case', async () => {
    const input = buildCustomer();
    await request(app).post('/customers').set(actors.user.headers).send(input).expect(201);
    const res = await request(app)
      .post('/customers')
      .set(actors.user.headers)
      .send({ ...input, email: input.email.toUpperCase() });
    expect(res.status).toBe(409);
    expect(await Customer.countDocuments({ email: input.email })).toBe(1);
  });

  it('lets staff give a customer a password so it can sign in', async () => {
    const input = buildCustomer();
    await request(app)
      .post('/customers')
      .set(actors.user.headers)
      .send({ ...input, password: PASSWORD })
      .expect(201);
    expect((await signin(app, 'customer', input.email)).token).toEqual(expect.any(String));
  });
});

describe('GET /customers', () => {
  beforeAll(async () => {
    await insertCustomer({ name: 'Zed Zimmer', company: 'Globex', status: 'active', tags: ['enterprise'], owner_id: actors.otherUser.id });
    await insertCustomer({ name: 'Amy Archer', email: 'amy.archer@initech.com', company: 'Initech', status: 'prospect' });
    await insertCustomer({ name: 'Bob Builder', company: 'Globex', status: 'inactive' });
  });

  it('filters by status, company, owner and tag', async () => {
    const byStatus = await request(app).get('/customers?status=active').set(actors.user.headers);
    expect(byStatus.body.map((c: { name: string }) => c.name)).toEqual(['Zed Zimmer']);
    const byCompany = await request(app).get('/customers?company=Globex&sort=name').set(actors.user.headers);
    expect(byCompany.body.map((c: { name: string }) => c.name)).toEqual(['Bob Builder', 'Zed Zimmer']);
    expect(byCompany.headers['x-total-count']).toBe('2');
    const byOwner = await request(app).get(`/customers?owner=${actors.otherUser.id}`).set(actors.user.headers);
    expect(byOwner.body.map((c: { name: string }) => c.name)).toEqual(['Zed Zimmer']);
    const byTag = await request(app).get('/customers?tag=enterprise').set(actors.user.headers);
    expect(byTag.body).toHaveLength(1);
  });

  it('searches name, e-mail and company by word prefix, case-insensitively', async () => {
    for (const [q, expected] of [
      ['amy', ['Amy Archer']],
      ['ARCH', ['Amy Archer']],
      ['initech', ['Amy Archer']],
      ['amy.archer@initech.com', ['Amy Archer']],
      ['glob zim', ['Zed Zimmer']],
      ['nobody', []],
    ] as const) {
      const res = await request(app)
        .get(`/customers?q=${encodeURIComponent(q)}`)
        .set(actors.user.headers);
      expect({ q, names: res.body.map((c: { name: string }) => c.name) }).toEqual({ q, names: expected });
    }
  });

  it('finds nothing, with 200, for a q without a letter or digit', async () => {
    for (const q of ['=\u00a9\u009d', '***', '  ,;  ']) {
      const res = await request(app)
        .get(`/customers?q=${encodeURIComponent(q)}`)
        .set(actors.user.headers);
      expect({ q, status: res.status, body: res.body, total: res.headers['x-total-count'] }).toEqual({
        q,
        status: 200,
        body: [],
        total: '0',
      });
    }
  });

  it('treats regex characters in q literally', async () => {
    const res = await request(app)
      .get(`/customers?q=${encodeURIComponent('.*')}`)
      .set(actors.user.headers);
    expect(res.status).toBe(200);
    expect(res.body).toEqual([]);
  });

  it('never skips or repeats a row when paging by cursor while rows are inserted', async () => {
    const seen: string[] = [];
    let next: string | undefined = '/customers?limit=3&sort=created_at';
    let pages = 0;
    const before = await Customer.countDocuments();
    while (next) {
      const res: request.Response = await request(app).get(next).set(actors.admin.headers);
      expect(res.status).toBe(200);
      seen.push(...idsOf(res.body));
      // Rows arriving mid-listing land after the cursor (newer created_at) and are picked up, never doubled.
      if (pages === 0) await insertCustomer({ name: 'Late Arrival' });
      next = /<([^>]+)>; rel="next"/.exec(String(res.headers.link ?? ''))?.[1];
      pages += 1;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toHaveLength(before + 1);
  });

  it('answers 403 to a customer', async () => {
    expect((await request(app).get('/customers').set(actors.customer.headers)).status).toBe(403);
  });
});

describe('GET /customers/:cust_id', () => {
  it('lets a customer read itself and answers 404 for another customer', async () => {
    const own = await request(app).get(`/customers/${actors.customer.id}`).set(actors.customer.headers);
    expect(own.status).toBe(200);
    expect(own.body.email).toBe(actors.customer.email);
    expect((await request(app).get(`/customers/${actors.otherCustomer.id}`).set(actors.customer.headers)).status).toBe(404);
  });
});

describe('PATCH /customers/:cust_id', () => {
  it('lets staff change status, owner, tags and address, and clear a field with null', async () => {
    const customer = await insertCustomer({ company: 'Old Co' });
    const res = await request(app)
      .patch(`/customers/${customer.id}`)
      .set(actors.user.headers)
      .send({ status: 'active', owner_id: actors.manager.id, tags: ['a', 'b'], address: { city: 'Pune', country: 'IN' }, company: null });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      message: 'Customer updated successfully',
      customer: expect.objectContaining({ status: 'active', owner_id: actors.manager.id, company: null }),
    });
    const stored = await Customer.findById(customer.id).lean();
    expect(stored).toMatchObject({ status: 'active', tags: ['a', 'b'], address: { city: 'Pune', country: 'IN' } });
    expect(stored?.company).toBeUndefined();
    // search terms follow the change
    const found = await request(app).get('/customers?q=old').set(actors.user.headers);
    expect(idsOf(found.body)).not.toContain(customer.id);
  });

  it('lets a customer edit its own contact details but not its owner or status (403)', async () => {
    const ok = await request(app).patch(`/customers/${actors.customer.id}`).set(actors.customer.headers).send({ Phone: '+1 555 0100' });
    expect(ok.status).toBe(200);
    expect((await Customer.findById(actors.customer.id).lean())?.phone).toBe('+1 555 0100');
    for (const body of [{ status: 'active' }, { owner_id: actors.user.id }]) {
      const res = await request(app).patch(`/customers/${actors.customer.id}`).set(actors.customer.headers).send(body);
      expect(res.status).toBe(403);
    }
    expect((await Customer.findById(actors.customer.id).lean())?.status).toBe('lead');
  });

  it("requires a customer's current password to change its own e-mail", async () => {
    const refused = await request(app)
      .patch(`/customers/${actors.customer.id}`)
      .set(actors.customer.headers)
      .send({ email: 'new.address@example.com' });
    expect(refused.status).toBe(400);
    expect((await Customer.findById(actors.customer.id).lean())?.email).toBe(actors.customer.email);
  });

  it('answers 404 when a customer changes another customer', async () => {
    const res = await request(app).patch(`/customers/${actors.otherCustomer.id}`).set(actors.customer.headers).send({ name: 'hijack' });
    expect(res.status).toBe(404);
    expect((await Customer.findById(actors.otherCustomer.id).lean())?.name).not.toBe('hijack');
  });

  it('answers 409 when the new e-mail is taken', async () => {
    const res = await request(app)
      .patch(`/customers/${actors.customer.id}`)
      .set(actors.admin.headers)
      .send({ email: actors.otherCustomer.email });
    expect(res.status).toBe(409);
  });

  it('keeps the status counters exact under concurrent changes of one customer (where the engine has transactions)', async () => {
    const statuses = ['lead', 'prospect', 'active', 'inactive'] as const;
    const overview = async () => {
      const res = await request(app).get('/analytics/overview?from=2020-01-01&to=2029-12-31').set(actors.admin.headers);
      expect(res.status).toBe(200);
      return res.body.customers.by_status as Record<string, number>;
    };
    const stored = async () =>
      Object.fromEntries(await Promise.all(statuses.map(async (status) => [status, await Customer.countDocuments({ status })])));
    const created = await request(app).post('/customers').set(actors.manager.headers).send(buildCustomer());
    expect(created.status).toBe(201);
    expect(await overview()).toEqual(await stored());
    // Each change reads the record before it (the counters move from its status to the new one): a change that read a
    // status another one has replaced meanwhile would move the counters from a status the record no longer has.
    const changes = await Promise.all(
      [...statuses, ...statuses, ...statuses].map((status) =>
        request(app).patch(`/customers/${created.body.id}`).set(actors.manager.headers).send({ status }),
      ),
    );
    expect(changes.map((res) => res.status)).toEqual(changes.map(() => 200));
    expect(statuses).toContain((await Customer.findById(created.body.id).lean())?.status);
    // Without transactions (FerretDB) the read and the write are not one unit: the counters are exact only there.
    if (engineCapabilities().transactions) expect(await overview()).toEqual(await stored());
  });
});

describe('DELETE /customers/:cust_id', () => {
  it('lets a manager delete a customer, and refuses a USER (403)', async () => {
    const customer = await insertCustomer();
    expect((await request(app).delete(`/customers/${customer.id}`).set(actors.user.headers)).status).toBe(403);
    const res = await request(app).delete(`/customers/${customer.id}`).set(actors.manager.headers);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: 'Customer deleted successfully' });
    expect(await Customer.exists({ _id: customer.id })).toBeNull();
    expect((await request(app).delete(`/customers/${customer.id}`).set(actors.manager.headers)).status).toBe(404);
  });

  it('signs a deleted customer out', async () => {
    const input = buildCustomer();
    const created = await request(app)
      .post('/customers')
      .set(actors.user.headers)
      .send({ ...input, password: PASSWORD });
    const tokens = await signin(app, 'customer', input.email);
    await request(app).delete(`/customers/${created.body.id}`).set(actors.admin.headers).expect(200);
    expect((await request(app).get('/me').set('token', tokens.token)).status).toBe(401);
  });
});
