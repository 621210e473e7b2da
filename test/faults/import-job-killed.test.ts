import { afterAll, describe, expect, it } from '@jest/globals';
import { createMongoClient } from '../../src/database/connect';
import { dropsDatabases, testMongoUri, uniqueDbName, uriWithDb } from '../helpers/db';
import { startServer, waitForLog, type ServerProcess } from '../helpers/server-process';

// The real service process killed with SIGKILL in the middle of an async import, then started again.

const dbName = uniqueDbName('import_kill');
const env = {
  MONGODB_URI: uriWithDb(testMongoUri(), dbName),
  ADMIN_EMAIL: 'ops@example.com',
  ADMIN_PASSWORD: 'operations password',
  JWT_SECRET: 'fault-test-secret-long-enough-for-hs256-0123456789',
  RATE_LIMIT_ENABLED: 'false',
  IMPORT_BATCH_SIZE: '100',
  IMPORT_JOB_STALE_MS: '2000',
};
const rows = 20_000;
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

async function getJob(base: string, token: string, id: string) {
  const res = await fetch(`${base}/import/jobs/${id}`, { headers: { token } });
  return (await res.json()) as { status: string; rows_processed: number; error: { code: string } | null; report: { inserted: number } };
}

async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('SIGKILL during an async import', () => {
  it('leaves the job failed with its progress after a restart, no row duplicated, and the job revertible', async () => {
    server = await startServer(env);
    await waitForLog(server, (line) => line.msg === 'created the configured ADMIN account');
    let base = `http://127.0.0.1:${server.port}`;
    let token = await signin(base);

    const csv = `name,email,company\n${Array.from({ length: rows }, (_, i) => `Kill ${i},kill${i}@fault.test,ACME`).join('\n')}\n`;
    const accepted = await fetch(`${base}/import/customer_data?async=true`, {
      method: 'POST',
      headers: { token, 'content-type': 'text/csv' },
      body: csv,
    });
    expect(accepted.status).toBe(202);
    const jobId = String(((await accepted.json()) as { job_id: string }).job_id);

    const midway = await until(
      () => getJob(base, token, jobId),
      (job) => job.rows_processed > 0,
    );
    expect(midway.status).toBe('running');
    server.child.kill('SIGKILL');
    await server.exited;

    server = await startServer(env);
    base = `http://127.0.0.1:${server.port}`;
    token = await signin(base);
    const after = await until(
      () => getJob(base, token, jobId),
      (job) => job.status !== 'running',
    );
    expect(after.status).toBe('failed');
    expect(after.error?.code).toBe('INTERRUPTED');
    expect(after.rows_processed).toBeGreaterThan(0);
    expect(after.rows_processed).toBeLessThan(rows);

    const customers = client.db(dbName).collection('customers');
    const written = await customers.countDocuments({ email: /@fault\.test$/ });
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(rows);
    expect((await customers.distinct('email', { email: /@fault\.test$/ })).length).toBe(written);

    const revert = await fetch(`${base}/import/jobs/${jobId}/revert`, { method: 'POST', headers: { token } });
    expect(revert.status).toBe(200);
    expect(((await revert.json()) as { deleted: number }).deleted).toBe(written);
    expect(await customers.countDocuments({ email: /@fault\.test$/ })).toBe(0);
  });
});
