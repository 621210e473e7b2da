import http from 'node:http';
import { afterAll, describe, expect, it } from '@jest/globals';
import { createMongoClient } from '../../src/database/connect';
import { dropsDatabases, testMongoUri, uniqueDbName, uriWithDb } from '../helpers/db';
import { startServer, waitForLog, type ServerProcess } from '../helpers/server-process';

// The real service process killed with SIGKILL while it holds an Idempotency-Key (an import whose upload is
// half-way), then started again: the key is not stuck for 24 h — once its lease has run out, a retry runs.

const dbName = uniqueDbName('idem_kill');
const env = {
  MONGODB_URI: uriWithDb(testMongoUri(), dbName),
  ADMIN_EMAIL: 'ops@example.com',
  ADMIN_PASSWORD: 'operations password',
  JWT_SECRET: 'fault-test-secret-long-enough-for-hs256-0123456789',
  RATE_LIMIT_ENABLED: 'false',
  IDEMPOTENCY_LEASE_MS: '3000',
};
let server: ServerProcess | undefined;
const client = createMongoClient(testMongoUri());

afterAll(async () => {
  if (server && server.child.exitCode === null) {
    server.child.kill('SIGTERM');
    await server.exited;
  }
  if (dropsDatabases())
    await client
      .db(dbName)
      .dropDatabase()
      .catch(() => undefined);
  await client.close();
});

async function signin(base: string): Promise<string> {
  const res = await fetch(`${base}/user/signin`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'ops@example.com', password: 'operations password' }),
  });
  return String(((await res.json()) as { token: string }).token);
}

const csv = `name,email\n${Array.from({ length: 5 }, (_, i) => `Killed ${i},killed${i}@fault.test`).join('\n')}\n`;

function importWithKey(base: string, token: string) {
  return fetch(`${base}/import/customer_data`, {
    method: 'POST',
    headers: { token, 'content-type': 'text/csv', 'idempotency-key': 'nightly-2031-01-01' },
    body: csv,
  });
}

describe('SIGKILL while a request holds an Idempotency-Key', () => {
  it('lets a retry take the key over once the dead holder’s lease has run out, and run once', async () => {
    server = await startServer(env);
    await waitForLog(server, (line) => line.msg === 'created the configured ADMIN account');
    let base = `http://127.0.0.1:${server.port}`;
    let token = await signin(base);

    // Half an upload: the key is claimed (after authentication), the import waits for the rest.
    const req = http.request(`${base}/import/customer_data`, {
      method: 'POST',
      headers: { token, 'content-type': 'text/csv', 'idempotency-key': 'nightly-2031-01-01', 'transfer-encoding': 'chunked' },
    });
    req.on('error', () => undefined);
    req.write(csv.slice(0, 20));
    const records = client.db(dbName).collection('idempotency_keys');
    const deadline = Date.now() + 10_000;
    while ((await records.countDocuments()) === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await records.countDocuments({ state: 'running' })).toBe(1);

    server.child.kill('SIGKILL');
    await server.exited;
    server = await startServer(env);
    base = `http://127.0.0.1:${server.port}`;
    token = await signin(base);

    const held = await records.findOne({});
    const leaseUntil = held?.lease_until instanceof Date ? held.lease_until.getTime() : 0;
    if (Date.now() < leaseUntil - 500) expect((await importWithKey(base, token)).status).toBe(409);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, leaseUntil - Date.now() + 100)));

    const retried = await importWithKey(base, token);
    expect(retried.status).toBe(200);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    expect(await retried.json()).toMatchObject({ total: 5, inserted: 5 });
    const replayed = await importWithKey(base, token);
    expect(replayed.status).toBe(200);
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(
      await client
        .db(dbName)
        .collection('customers')
        .countDocuments({ email: /@fault\.test$/ }),
    ).toBe(5);
  });
});
