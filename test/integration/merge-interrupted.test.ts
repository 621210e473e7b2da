import { afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import mongoose from 'mongoose';
import request from 'supertest';
import { engineCapabilities } from '../../src/database/capabilities';
import { Customer } from '../../src/models/customer.model';
import { Interaction } from '../../src/models/interaction.model';
import { Merge } from '../../src/models/merge.model';
import { buildTestApp } from '../helpers/app';
import { createActors, uniqueEmail, type Actors } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';

// A merge that fails at its last step (marking the record done). With transactions (SecantusDB) nothing of it
// remains. Without (FerretDB) its steps ran in order: the record says `running`, and undoing it puts back
// everything it did, the sources included.

useTestDatabase();
const app = buildTestApp();
let actors: Actors;
beforeAll(async () => {
  actors = await createActors(app);
});
afterEach(() => {
  jest.restoreAllMocks();
});

const oid = (id: string) => new mongoose.Types.ObjectId(id);

async function createCustomer(fields: Record<string, unknown> = {}): Promise<string> {
  const res = await request(app)
    .post('/customers')
    .set(actors.manager.headers)
    .send({ name: 'Dup', email: uniqueEmail('dup'), ...fields });
  expect(res.status).toBe(201);
  return res.body.id;
}

describe('an interrupted merge', () => {
  it('leaves nothing behind in a transaction, or a running merge that can be undone', async () => {
    const target = await createCustomer();
    const source = await createCustomer({ phone: '+91 777', tags: ['t'] });
    const meeting = await request(app).post(`/users/meetings/${source}`).set(actors.user.headers).send({});
    const interaction: string = meeting.body.InsertedID;
    jest.spyOn(Merge.collection, 'updateOne').mockRejectedValueOnce(new Error('interrupted'));

    const res = await request(app)
      .post(`/customers/${target}/merge`)
      .set(actors.manager.headers)
      .send({ source_ids: [source] });
    expect(res.status).toBe(500);
    jest.restoreAllMocks();

    const record = await Merge.collection.findOne({ target: oid(target) });
    if (engineCapabilities().transactions) {
      expect(record).toBeNull();
      expect(await Customer.collection.countDocuments({ _id: oid(source) })).toBe(1);
      expect((await Interaction.collection.findOne({ _id: oid(interaction) }))?.customer).toEqual(oid(source));
      return;
    }
    expect(record).toMatchObject({ state: 'running', deletion_id: null });
    const mergeId = String(record?._id);
    expect((await request(app).get(`/merges/${mergeId}`).set(actors.manager.headers)).body.state).toBe('running');
    expect((await request(app).get(`/customers/${source}`).set(actors.manager.headers)).status).toBe(404);

    const undo = await request(app).post(`/merges/${mergeId}/undo`).set(actors.manager.headers);
    expect(undo.status).toBe(200);
    expect(undo.body.undo.conflicts).toEqual([]);
    expect(undo.body.customer).toMatchObject({ phone: null, tags: [] });
    expect((await request(app).get(`/customers/${source}`).set(actors.manager.headers)).body).toMatchObject({
      id: source,
      phone: '+91 777',
    });
    expect((await Interaction.collection.findOne({ _id: oid(interaction) }))?.customer).toEqual(oid(source));
  });
});
