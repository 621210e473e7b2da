import { afterAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { createMongoClient } from '../../src/database/connect';
import { dropsDatabases, testMongoUri, uniqueDbName, uriWithDb } from '../helpers/db';
import { spawnServer, waitForLog } from '../helpers/server-process';

// Ready means connected, every index ensured (the unique e-mail indexes among them) and the configured ADMIN
// created: a load balancer that routes on /readyz must never send a write before a unique index exists, nor a
// sign-in before the ADMIN does. Where the engine has mongod's fail points (SecantusDB), index builds are
// slowed down for this server's connection only, so the window between "database answers" and "set up" is
// wide enough to be seen.

const APP_NAME = 'crm-readiness';
const dbName = uniqueDbName('readiness');
const admin = createMongoClient(testMongoUri());
let failPointSet = false;

afterAll(async () => {
  if (failPointSet) await admin.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off', data: { appName: APP_NAME } });
  if (dropsDatabases())
    await admin
      .db(dbName)
      .dropDatabase()
      .catch(() => undefined);
  await admin.close();
});

async function slowIndexBuilds(): Promise<void> {
  try {
    await admin.db('admin').command({
      configureFailPoint: 'failCommand',
      mode: 'alwaysOn',
      data: { failCommands: ['createIndexes'], blockConnection: true, blockTimeMS: 150, appName: APP_NAME },
    });
    failPointSet = true;
  } catch {
    // No fail points on this engine (FerretDB): start-up is fast, the checks below still hold.
  }
}

describe('GET /readyz during start-up', () => {
  it('answers 503 until indexes and the configured ADMIN exist, and then the ADMIN can sign in at once', async () => {
    await slowIndexBuilds();
    const url = new URL(uriWithDb(testMongoUri(), dbName));
    url.searchParams.set('appName', APP_NAME);
    const server = spawnServer({
      MONGODB_URI: url.toString(),
      ADMIN_EMAIL: 'ready.admin@example.com',
      ADMIN_PASSWORD: 'ready admin password',
    });
    try {
      const listening = await waitForLog(server, (line) => line.msg === 'listening');
      const base = `http://127.0.0.1:${String(listening.port)}`;
      const answers: number[] = [];
      for (;;) {
        const res = await request(base).get('/readyz');
        answers.push(res.status);
        if (res.status === 200) break;
        expect(res.status).toBe(503);
        expect(res.body.code).toBe('NOT_READY');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      if (failPointSet) expect(answers.filter((status) => status === 503).length).toBeGreaterThan(0);

      const signin = await request(base).post('/user/signin').send({ email: 'ready.admin@example.com', password: 'ready admin password' });
      expect(signin.status).toBe(200);
      const indexes = await admin.db(dbName).collection('customers').indexes();
      expect(indexes.some((index) => index.key.email === 1 && index.unique === true)).toBe(true);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });
});
