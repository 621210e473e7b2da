import { describe, expect, it } from '@jest/globals';
import { processUnderTest, signInOps, until } from '../helpers/process-under-test';
import { waitForLog } from '../helpers/server-process';

// The real service process killed with SIGKILL in the middle of an async revert (issue 18 item 12), then
// started again: the revert shows as interrupted with its progress, and asking again finishes it.

const service = processUnderTest('revert_kill', {
  // Small batches: many checkpoints, so the kill lands between two of them on either engine.
  IMPORT_BATCH_SIZE: '100',
  IMPORT_JOB_STALE_MS: '2000',
});
const rows = 3_000;

interface JobBody {
  status: string;
  revert: { status: string; rows_processed: number; deleted: number; error: { code: string } | null } | null;
}

async function getJob(base: string, token: string, id: string): Promise<JobBody> {
  const res = await fetch(`${base}/import/jobs/${id}`, { headers: { token } });
  return (await res.json()) as JobBody;
}

describe('SIGKILL during an async revert', () => {
  it('leaves the revert interrupted with its progress after a restart, and the next request finishes it', async () => {
    const first = await service.start();
    let { base } = first;
    await waitForLog(first.server, (line) => line.msg === 'created the configured ADMIN account');
    let token = await signInOps(base);

    const csv = `name,email,company\n${Array.from({ length: rows }, (_, i) => `Undo ${i},undo${i}@fault.test,ACME`).join('\n')}\n`;
    const imported = await fetch(`${base}/import/customer_data`, {
      method: 'POST',
      headers: { token, 'content-type': 'text/csv' },
      body: csv,
    });
    expect(imported.status).toBe(200);
    const jobId = String(((await imported.json()) as { job_id: string }).job_id);

    const accepted = await fetch(`${base}/import/jobs/${jobId}/revert?async=true`, { method: 'POST', headers: { token } });
    // The answer's body rides along, so that a refusal says which one it was (a 409 was seen once in CI, on FerretDB).
    expect({ status: accepted.status, refusal: accepted.status === 202 ? null : await accepted.text() }).toEqual({
      status: 202,
      refusal: null,
    });
    const midway = await until(
      () => getJob(base, token, jobId),
      (job) => (job.revert?.rows_processed ?? 0) > 0,
      60_000,
      50,
    );
    expect(midway.status).toBe('reverting');
    await service.kill(first.server);

    const customers = service.db().collection('customers');
    const left = await customers.countDocuments({ email: /@fault\.test$/ });
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(rows);

    base = (await service.start()).base;
    token = await signInOps(base);
    // The revert shows as interrupted once its last heartbeat is IMPORT_JOB_STALE_MS old (a fast restart comes sooner).
    const after = await until(
      () => getJob(base, token, jobId),
      (job) => job.revert?.status !== 'running',
      60_000,
      50,
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
