import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import mongoose from 'mongoose';
import request from 'supertest';
import { engineCapabilities } from '../../src/database/capabilities';
import { createMongoClient, sweepExpired, ttlFallbacks } from '../../src/database/connect';
import { LoginAttempt } from '../../src/models/login-attempt.model';
import { OutboxMessage } from '../../src/models/outbox.model';
import { OutboxWorker } from '../../src/services/outbox.worker';
import { createLogger } from '../../src/utils/logger';
import { buildTestApp } from '../helpers/app';
import { testMongoUri, uriWithDb, useTestDatabase } from '../helpers/db';
import { eventually, SmtpCatcher } from '../helpers/smtp';

// The engine is asked what it can do once, at start; the service then uses transactions, change streams and
// TTL indexes where they exist and falls back where they do not. The suite runs on SecantusDB (a replica
// set: every feature) and on FerretDB (none of them), so each test checks the path its engine takes.

const db = useTestDatabase();
const app = buildTestApp();
const smtp = new SmtpCatcher();
let replicaSet = false;

beforeAll(async () => {
  await smtp.start();
  const hello = await mongoose.connection.db?.admin().command({ hello: 1 });
  replicaSet = typeof hello?.setName === 'string';
});

afterAll(async () => {
  await smtp.stop();
});

describe('engine detection', () => {
  it('uses transactions and change streams exactly where the server is a replica set, and says so in /readyz', async () => {
    const res = await request(app).get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body.checks).toEqual({ database: 'up', setup: 'done' });
    expect(res.body.engine).toMatchObject({
      topology: replicaSet ? 'replica-set' : 'standalone',
      transactions: replicaSet,
      change_streams: replicaSet,
    });
    expect(engineCapabilities().transactions).toBe(replicaSet);
  });
});

describe('expiry', () => {
  it('leaves expiry to native TTL indexes where the engine has them, and sweeps where it has not', async () => {
    const indexes = await LoginAttempt.collection.indexes();
    const ttl = indexes.find((index) => index.key.expires_at === 1);
    const native = engineCapabilities().ttlIndexes === true;
    expect(ttl?.expireAfterSeconds === 0).toBe(native);
    expect(ttlFallbacks.some((fallback) => fallback.collection.name === LoginAttempt.collection.name)).toBe(!native);

    const expired = await LoginAttempt.collection.insertOne({ key: 'expired', failures: 1, expires_at: new Date(Date.now() - 60_000) });
    if (!native) {
      expect(await sweepExpired()).toBeGreaterThanOrEqual(1);
      expect(await LoginAttempt.collection.countDocuments({ _id: expired.insertedId })).toBe(0);
    }
  });
});

describe('outbox worker wake-up', () => {
  it('delivers a message written by another process at once on a change stream, or on its next poll without one', async () => {
    const worker = new OutboxWorker({
      logger: createLogger(undefined, 'silent'),
      smtp: { host: '127.0.0.1', port: smtp.port, secure: false },
      from: 'CRM <crm@example.com>',
      // With a change stream the worker must not need its poll; without one it has only the poll.
      pollMs: replicaSet ? 120_000 : 200,
      idlePollMs: 120_000,
      workerId: 'engine-features',
    });
    worker.start();
    // Another instance's write: through a client of its own, so this process's in-memory signal never fires.
    const other = createMongoClient(uriWithDb(testMongoUri(), db.dbName));
    try {
      // The worker's first round: the stream started (where there is one), the first poll done.
      await eventually(() => Promise.resolve(worker.rounds > 0));
      expect(worker.wakeMode).toBe(replicaSet ? 'change-stream' : 'poll');
      const now = new Date();
      await other.db().collection(OutboxMessage.collection.name).insertOne({
        event: 'test.other-instance',
        to: 'elsewhere@example.com',
        subject: 'From another instance',
        text: 'text',
        html: '<p>html</p>',
        status: 'pending',
        attempts: 0,
        max_attempts: 3,
        next_attempt_at: now,
        created_at: now,
        updated_at: now,
      });
      await smtp.waitFor((mails) => mails.some((mail) => mail.to.includes('elsewhere@example.com')), 20_000);
    } finally {
      await other.close();
      await worker.stop();
    }
  });
});
