import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Router } from 'express';
import mongoose from 'mongoose';
import request from 'supertest';
import { requireDatabase } from '../../src/middleware/require-database';
import { buildTestApp } from '../helpers/app';
import { bootstrapAdmin } from '../helpers/auth';
import { testMongoUri, useTestDatabase } from '../helpers/db';
import { TcpProxy } from '../helpers/tcp-proxy';

// The service reaches the database through a TCP proxy that the test cuts and restores.
const proxy = TcpProxy.forUri(testMongoUri());
beforeAll(() => proxy.start());
afterAll(() => proxy.cut());

useTestDatabase({ uri: () => `mongodb://127.0.0.1:${proxy.port}/?directConnection=true` });

const noteSchema = new mongoose.Schema({ text: String });
// Counts the queries the routes below issue, sent or not (a query that finds no server never reaches the wire).
let noteQueries = 0;
noteSchema.pre('find', () => {
  noteQueries += 1;
});
const Note = mongoose.model('OutageNote', noteSchema);
const fixtures = Router();
fixtures.get('/notes', requireDatabase, async (_req, res) => {
  res.json(await Note.find().lean());
});
// No gate: shows that a query issued while the outage is still undetected also fails fast with 503.
fixtures.get('/notes-ungated', async (_req, res) => {
  res.json(await Note.find().lean());
});
const app = buildTestApp({ extraRouters: [fixtures] });

// "Quickly" means without waiting on the database: the service's limit is MONGODB_TIMEOUT_MS (500 ms by
// default), the driver's own default 30 s. The bound leaves a loaded two-core machine ten times that.
const FAST_MS = 5000;

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check()) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

describe('database outage', () => {
  it('answers 503 quickly while the database is away and recovers by itself', async () => {
    await Note.create({ text: 'before' });
    // On a loaded machine the driver may still be settling; start from a known-good state.
    await until(
      async () => (await request(app).get('/readyz')).status === 200 && (await request(app).get('/notes')).status === 200,
      10_000,
    );
    const admin = await bootstrapAdmin(app);
    // Warms the short principal cache, so the export below reaches its own query during the outage.
    expect((await request(app).get('/customers').set(admin.headers)).status).toBe(200);

    await proxy.cut();

    // The export's query fails before the first byte: a JSON 503, not a cut connection.
    const exported = await request(app).get('/export/customer_data').set(admin.headers);
    expect({ status: exported.status, code: exported.body.code }).toEqual({ status: 503, code: 'DATABASE_UNAVAILABLE' });

    const ungatedStart = Date.now();
    const ungated = await request(app).get('/notes-ungated');
    expect(ungated.status).toBe(503);
    expect(ungated.body).toEqual({ error: expect.any(String), code: 'DATABASE_UNAVAILABLE', details: [] });
    const ungatedMs = Date.now() - ungatedStart;
    expect(ungatedMs).toBeLessThan(FAST_MS);

    const notReady = await request(app).get('/readyz');
    expect(notReady.status).toBe(503);
    expect(notReady.body.code).toBe('NOT_READY');
    expect((await request(app).get('/healthz')).status).toBe(200);

    // Once the driver has noticed, gated routes refuse at once: without even issuing their query.
    await until(() => Promise.resolve(mongoose.connection.readyState !== mongoose.ConnectionStates.connected), 5000);
    const queriesBefore = noteQueries;
    const started = Date.now();
    const gated = await request(app).get('/notes');
    const gatedMs = Date.now() - started;
    expect(gated.status).toBe(503);
    expect(gated.headers['retry-after']).toBe('5');
    expect(noteQueries).toBe(queriesBefore);
    expect(gatedMs).toBeLessThan(FAST_MS);
    process.stdout.write(`\n[outage] ungated query failed after ${ungatedMs} ms; gated route refused after ${gatedMs} ms\n`);

    await proxy.restore();
    await until(async () => (await request(app).get('/readyz')).status === 200, 15_000);
    const after = await request(app).get('/notes');
    expect(after.status).toBe(200);
    expect(after.body).toEqual([expect.objectContaining({ text: 'before' })]);
  });
});
