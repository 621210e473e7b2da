import { afterAll, describe, expect, it } from '@jest/globals';
import { createMongoClient } from '../../src/database/connect';
import { dropsDatabases, testMongoUri, uniqueDbName, uriWithDb } from '../helpers/db';
import { startServer, waitForLog, type ServerProcess } from '../helpers/server-process';

// The real service process killed with SIGKILL in the middle of an async revert (issue 18 item 12), then
// started again: the revert shows as interrupted with its progress, and asking again finishes it.

const dbName = uniqueDbName('revert_kill');
const env = {
  MONGODB_URI: uriWithDb(testMongoUri(), dbName),
  ADMIN_EMAIL: 'ops@example.com',
  ADMIN_PASSWORD: 'operations password',
  JWT_SECRET: 'fault-test-secret-long-enough-for-hs256-0123456789',
  RATE_LIMIT_ENABLED: 'false',
  // Small batches: many checkpoints, so the kill lands between two of them on either engine.
  IMPORT_BATCH_SIZE: '100',
  IMPORT_JOB_STALE_MS: '2000',
};
const rows = 3_000;
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

interface JobBody {
  status: string;
  revert: { status: string; rows_processed: number; deleted: number; error: { code: string } | null } | null;
}

async function getJob(base: string, token: string, id: string): Promise<JobBody> {
  const res = await fetch(`${base}/import/jobs/${id}`, { headers: { token } });
  return (await res.json()) as JobBody;
}

async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('SIGKILL during an async revert', () => {
  it('leaves the revert interrupted with its progress after a restart, and the next request finishes it', async () => {
    server = await startServer(env);
    await waitForLog(server, (line) => line.msg === 'created the configured ADMIN account');
    let base = `http://127.0.0.1:${server.port}`;
    let token = await signin(base);

    const csv = `name,email,company\n${Array.from({ length: rows }, (_, i) => `Undo ${i},undo${i}@fault.test,ACME`).join('\n')}\n`;
    const imported = await fetch(`${base}/import/customer_data`, {
      method: 'POST',
      headers: { token, 'content-type': 'text/csv' },
      body: csv,
    });
    expect(imported.status).toBe(200);
    const jobId = String(((await imported.json()) as { job_id: string }).job_id);

    const accepted = await fetch(`${base}/import/jobs/${jobId}/revert?async=true`, { method: 'POST', headers: { token } });
    expect(accepted.status).toBe(202);
    const midway = await until(
      () => getJob(base, token, jobId),
      (job) => (job.revert?.rows_processed ?? 0) > 0,
    );
    expect(midway.status).toBe('reverting');
    server.child.kill('SIGKILL');
    await server.exited;

    const customers = client.db(dbName).collection('customers');
    const left = await customers.countDocuments({ email: /@fault\.test$/ });
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(rows);

    server = await startServer(env);
    base = `http://127.0.0.1:${server.port}`;
    token = await signin(base);
    // The revert shows as interrupted once its last heartbeat is IMPORT_JOB_STALE_MS old (a fast restart comes sooner).
    const after = await until(
      () => getJob(base, token, jobId),
      (job) => job.revert?.status !== 'running',
    );
    expect(after.status).toBe('reverting');
    expect(after.revert).toMatchObject({ status: 'failed', error: { code: 'INTERRUPTED' } });
    expect(after.revert?.rows_processed).toBeGreaterThan(0);

    const resumed = await fetch(`${base}/import/jobs/${jobId}/revert`, { method: 'POST', headers: { token } });
    expect(resumed.status).toBe(200);
    expect(await customers.countDocuments({ email: /@fault\.test$/ })).toBe(0);
    const done = await getJob(base, token, jobId);
    expect(done).toMatchObject({ status: 'reverted', revert: { status: 'completed', rows_processed: rows } });
    // Every row was deleted once: counted by the attempt that deleted it (a batch cut short may be uncounted).
    expect(done.revert?.deleted).toBeGreaterThanOrEqual(rows - 100);
  }, 90_000);
});
