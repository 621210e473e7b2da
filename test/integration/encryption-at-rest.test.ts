import { beforeAll, describe, expect, it } from '@jest/globals';
import mongoose from 'mongoose';
import request from 'supertest';
import { config } from '../../src/config/env';
import { createKeyring, encryptText } from '../../src/utils/crypto';
import { buildTestApp } from '../helpers/app';
import { createActors, type Actors } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';
import { insertInteraction } from '../factories/interaction';

// SPEC §6: interaction notes and outcome never reach the database in clear, and survive a key rotation.

useTestDatabase();
const app = buildTestApp();
let actors: Actors;

beforeAll(async () => {
  actors = await createActors(app);
});

const oid = (id: string) => new mongoose.Types.ObjectId(id);

describe('encryption at rest', () => {
  it('keeps notes and outcome out of the raw collection, stored as enc:v1 with the key id', async () => {
    const res = await request(app)
      .post('/interactions')
      .set(actors.user.headers)
      .send({ customer_id: actors.customer.id, type: 'meeting', notes: 'PLAINTEXT-NOTES-4711', outcome: 'PLAINTEXT-OUTCOME-4711' });
    expect(res.status).toBe(201);
    const raw = await mongoose.connection.collection('interactions').findOne({ _id: oid(res.body.id) });
    expect(JSON.stringify(raw)).not.toContain('PLAINTEXT');
    expect(raw?.notes).toMatch(new RegExp(`^enc:v1:${config.encryption.keyId}:`));
    expect(raw?.outcome).toMatch(new RegExp(`^enc:v1:${config.encryption.keyId}:`));
    const all = await mongoose.connection.collection('interactions').find({}).toArray();
    expect(JSON.stringify(all)).not.toContain('PLAINTEXT');
    expect((await request(app).get(`/interactions/${res.body.id}`).set(actors.user.headers)).body.notes).toBe('PLAINTEXT-NOTES-4711');
  });

  it('reads a value written under a retired key (listed in DATA_ENCRYPTION_OLD_KEYS) after rotation', async () => {
    const interaction = await insertInteraction({ customer: actors.customer.id, user: actors.user.id });
    const retired = createKeyring({ id: 'k0', key: config.encryption.oldKeys.k0 ?? '' });
    const context = `interaction:${interaction._id.toHexString()}:notes`;
    await mongoose.connection
      .collection('interactions')
      .updateOne({ _id: interaction._id }, { $set: { notes: encryptText('written before rotation', retired, context) } });
    const res = await request(app).get(`/interactions/${interaction._id.toHexString()}`).set(actors.user.headers);
    expect(res.status).toBe(200);
    expect(res.body.notes).toBe('written before rotation');
    // Rewriting re-encrypts under the current key.
    await request(app).patch(`/interactions/${interaction._id.toHexString()}`).set(actors.user.headers).send({ notes: 'after rotation' });
    const raw = await mongoose.connection.collection('interactions').findOne({ _id: interaction._id });
    expect(raw?.notes).toMatch(new RegExp(`^enc:v1:${config.encryption.keyId}:`));
  });
});
