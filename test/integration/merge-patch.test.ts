import { beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { Customer } from '../../src/models/customer.model';
import { buildTestApp } from '../helpers/app';
import { createActors, type Actors } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';
import { insertCustomer } from '../factories/customer';

// Issue 18 item 1: PATCH bodies and upsert imports are JSON merge patches (RFC 7396) at every depth.

useTestDatabase();
const app = buildTestApp();
let actors: Actors;
beforeAll(async () => {
  actors = await createActors(app);
});

const fullAddress = { street: '1 MG Road', city: 'Pune', state: 'MH', postal_code: '411001', country: 'IN' };

async function customerWithAddress(email?: string) {
  const customer = await insertCustomer(email ? { email } : {});
  await Customer.updateOne({ _id: customer._id }, { $set: { address: fullAddress } });
  return customer.id;
}

describe('PATCH /customers/:cust_id with a partial address', () => {
  it('changes only the parts sent and keeps street, state and postal code', async () => {
    const id = await customerWithAddress();
    const res = await request(app)
      .patch(`/customers/${id}`)
      .set(actors.user.headers)
      .send({ address: { city: 'Mumbai' } });
    expect(res.status).toBe(200);
    expect(res.body.customer.address).toEqual({ ...fullAddress, city: 'Mumbai' });
    expect((await Customer.findById(id).lean())?.address).toEqual({ ...fullAddress, city: 'Mumbai' });
  });

  it('clears one part with null and the whole address with address: null', async () => {
    const id = await customerWithAddress();
    const part = await request(app)
      .patch(`/customers/${id}`)
      .set(actors.user.headers)
      .send({ address: { postal_code: null, State: 'KA' } });
    expect(part.status).toBe(200);
    expect(part.body.customer.address).toEqual({ ...fullAddress, state: 'KA', postal_code: null });
    const stored = await Customer.findById(id).lean();
    expect(stored?.address).toEqual({ street: '1 MG Road', city: 'Pune', state: 'KA', country: 'IN' });

    const whole = await request(app).patch(`/customers/${id}`).set(actors.user.headers).send({ address: null });
    expect(whole.status).toBe(200);
    expect(whole.body.customer.address).toBeNull();
    expect((await Customer.findById(id).lean())?.address).toBeUndefined();
  });

  it('removes the address when the patch clears its last part, and creates one from parts on a customer without', async () => {
    const bare = await insertCustomer();
    const created = await request(app)
      .patch(`/customers/${bare.id}`)
      .set(actors.user.headers)
      .send({ address: { city: 'Goa' } });
    expect(created.body.customer.address).toEqual({ street: null, city: 'Goa', state: null, postal_code: null, country: null });
    const cleared = await request(app)
      .patch(`/customers/${bare.id}`)
      .set(actors.user.headers)
      .send({ address: { city: null } });
    expect(cleared.status).toBe(200);
    expect(cleared.body.customer.address).toBeNull();
    expect((await Customer.findById(bare.id).lean())?.address).toBeUndefined();
  });

  it('keeps the rest of the address when a customer edits its own city', async () => {
    await Customer.updateOne({ _id: actors.customer.id }, { $set: { address: fullAddress } });
    const res = await request(app)
      .patch(`/customers/${actors.customer.id}`)
      .set(actors.customer.headers)
      .send({ address: { country: 'FR' } });
    expect(res.status).toBe(200);
    expect((await Customer.findById(actors.customer.id).lean())?.address).toEqual({ ...fullAddress, country: 'FR' });
  });

  it('answers 400 for an unknown address part', async () => {
    const id = await customerWithAddress();
    const res = await request(app)
      .patch(`/customers/${id}`)
      .set(actors.user.headers)
      .send({ address: { planet: 'Mars' } });
    expect(res.status).toBe(400);
    expect(res.body.details).toEqual([expect.objectContaining({ field: 'address.planet' })]);
    expect((await Customer.findById(id).lean())?.address).toEqual(fullAddress);
  });
});

describe('POST /import/customer_data?mode=upsert with some address columns', () => {
  const importCsv = (csv: string) =>
    request(app).post('/import/customer_data?mode=upsert').set(actors.manager.headers).set('Content-Type', 'text/csv').send(csv);

  it('keeps the address parts the file has no column for, and clears a part whose cell is empty', async () => {
    const ann = await customerWithAddress('ann.merge@import.test');
    const ben = await customerWithAddress('ben.merge@import.test');
    const res = await importCsv(
      'email,name,City,Country,Zip\nann.merge@import.test,Ann,Nagpur,IN,411001\nben.merge@import.test,Ben,,FR,\n',
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ total: 2, updated: 2, failed: 0 });
    expect((await Customer.findById(ann).lean())?.address).toEqual({ ...fullAddress, city: 'Nagpur' });
    expect((await Customer.findById(ben).lean())?.address).toEqual({ street: '1 MG Road', state: 'MH', country: 'FR' });
  });

  it('merges a JSON address object the same way, and skips a row that changes nothing', async () => {
    const cid = await customerWithAddress('cid.merge@import.test');
    const rows = [
      { email: 'cid.merge@import.test', name: 'Cid', address: { city: 'Delhi', street: null } },
      { email: 'cid.merge@import.test'.replace('cid', 'dee'), name: 'Dee', address: { city: 'Agra' } },
    ];
    const res = await request(app)
      .post('/import/customer_data?mode=upsert')
      .set(actors.manager.headers)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify(rows));
    expect(res.body).toMatchObject({ total: 2, inserted: 1, updated: 1, failed: 0 });
    const stored = await Customer.findById(cid).lean();
    expect(stored?.address).toEqual({ city: 'Delhi', state: 'MH', postal_code: '411001', country: 'IN' });
    expect((await Customer.findOne({ email: 'dee.merge@import.test' }).lean())?.address).toEqual({ city: 'Agra' });
    const again = await request(app)
      .post('/import/customer_data?mode=upsert')
      .set(actors.manager.headers)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify([{ email: 'cid.merge@import.test', name: 'Cid', address: { city: 'Delhi' } }]));
    expect(again.body).toMatchObject({ total: 1, updated: 0, skipped: 1 });
  });

  it('reverts a merged address to the address it had before', async () => {
    const eve = await customerWithAddress('eve.merge@import.test');
    const res = await importCsv('email,name,city\neve.merge@import.test,Eve,Surat\n');
    expect(res.body).toMatchObject({ updated: 1 });
    const revert = await request(app).post(`/import/jobs/${res.body.job_id}/revert`).set(actors.manager.headers);
    expect(revert.status).toBe(200);
    expect((await Customer.findById(eve).lean())?.address).toEqual(fullAddress);
  });
});
