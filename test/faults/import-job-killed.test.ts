import { describe, expect, it } from '@jest/globals';
import { processUnderTest, signInOps, until } from '../helpers/process-under-test';
import { waitForLog } from '../helpers/server-process';

// The real service process killed with SIGKILL in the middle of an async import, then started again.

const service = processUnderTest('import_kill', { IMPORT_BATCH_SIZE: '100', IMPORT_JOB_STALE_MS: '2000' });
const rows = 20_000;

async function getJob(base: string, token: string, id: string) {
  const res = await fetch(`${base}/import/jobs/${id}`, { headers: { token } });
  return (await res.json()) as { status: string; rows_processed: number; error: { code: string } | null; report: { inserted: number } };
}

describe('SIGKILL during an async import', () => {
  it('leaves the job failed with its progress after a restart, no row duplicated, and the job revertible', async () => {
    const first = await service.start();
    let { base } = first;
    await waitForLog(first.server, (line) => line.msg === 'created the configured ADMIN account');
    let token = await signInOps(base);

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
      30_000,
    );
    expect(midway.status).toBe('running');
    await service.kill(first.server);

    base = (await service.start()).base;
    token = await signInOps(base);
    const after = await until(
      () => getJob(base, token, jobId),
      (job) => job.status !== 'running',
      30_000,
    );
    expect(after.status).toBe('failed');
    expect(after.error?.code).toBe('INTERRUPTED');
    expect(after.rows_processed).toBeGreaterThan(0);
    expect(after.rows_processed).toBeLessThan(rows);

    const customers = service.db().collection('customers');
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
