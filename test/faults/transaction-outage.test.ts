import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Router } from 'express';
import mongoose from 'mongoose';
import request from 'supertest';
import { engineCapabilities } from '../../src/database/capabilities';
import { inTransaction } from '../../src/database/transaction';
import { buildTestApp } from '../helpers/app';
import { testMongoUri, useTestDatabase } from '../helpers/db';
import { TcpProxy } from '../helpers/tcp-proxy';

// A transaction whose server vanishes must fail like any other write (503 within the usual timeout), not be
// retried as "transient" for the two minutes the driver's own withTransaction would spend.

const proxy = TcpProxy.forUri(testMongoUri());
beforeAll(() => proxy.start());
afterAll(() => proxy.cut());

useTestDatabase({ uri: () => `mongodb://127.0.0.1:${proxy.port}/?directConnection=true` });

const Entry = mongoose.model('TransactionOutageEntry', new mongoose.Schema({ text: String }));
const fixtures = Router();
// No readiness gate in front: the write itself meets the outage, inside its transaction.
fixtures.post('/entries', async (_req, res) => {
  const created = await inTransaction(async () => {
    const entry = await Entry.create({ text: 'first' });
    await Entry.create({ text: 'second' });
    return entry;
  });
  res.status(201).json({ id: created.id });
});
const app = buildTestApp({ extraRouters: [fixtures] });

describe('a transaction during a database outage', () => {
  it('answers 503 within seconds and writes nothing; the same request succeeds once the database is back', async () => {
    expect((await request(app).post('/entries')).status).toBe(201);
    await proxy.cut();
    const started = Date.now();
    const failed = await request(app).post('/entries');
    const took = Date.now() - started;
    expect({ status: failed.status, code: failed.body.code }).toEqual({ status: 503, code: 'DATABASE_UNAVAILABLE' });
    // Generous for a loaded machine; the driver's withTransaction would keep retrying for 120 s.
    expect(took).toBeLessThan(20_000);

    await proxy.restore();
    for (let i = 0; i < 100 && (await request(app).post('/entries')).status !== 201; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const texts = (await Entry.find().lean()).map((entry) => entry.text).sort();
    if (engineCapabilities().transactions) {
      // Two from the first request, two from the one that succeeded after the outage, none from any that failed.
      expect(texts).toEqual(['first', 'first', 'second', 'second']);
    } else {
      // Ordered writes: a request that failed while the database came back may have left its first entry.
      expect(texts.filter((text) => text === 'second')).toHaveLength(2);
    }
  });
});
