import { beforeAll, describe, expect, it, jest } from '@jest/globals';
import request from 'supertest';
import { Customer } from '../../src/models/customer.model';
import { ImportJob } from '../../src/models/import-job.model';
import { buildTestApp } from '../helpers/app';
import { createActors, type Actors } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';
import { eventually } from '../helpers/smtp';

// Issue 18 item 12: a revert can run as a background job (async=true: 202, progress in the job), and a revert
// that stopped half-way (process died, database error) resumes where it stopped when asked again.

useTestDatabase();
const app = buildTestApp();
let actors: Actors;
beforeAll(async () => {
  actors = await createActors(app);
});

async function importRows(n: number, prefix: string): Promise<string> {
  const rows = Array.from({ length: n }, (_, i) => `${prefix} ${i},${prefix}${i}@revert.test`).join('\n');
  const res = await request(app)
    .post('/import/customer_data')
    .set(actors.manager.headers)
    .set('Content-Type', 'text/csv')
    .send(`name,email\n${rows}\n`);
  expect(res.body).toMatchObject({ inserted: n });
  return res.body.job_id;
}

const getJob = (id: string) => request(app).get(`/import/jobs/${id}`).set(actors.manager.headers);
const countOf = (prefix: string) => Customer.countDocuments({ email: new RegExp(`^${prefix}\\d+@revert\\.test$`) });

describe('POST /import/jobs/:job_id/revert?async=true', () => {
  it('answers 202 with the job, then reverts in the background with pollable progress', async () => {
    const jobId = await importRows(2500, 'bg');
    const res = await request(app).post(`/import/jobs/${jobId}/revert?async=true`).set(actors.manager.headers);
    expect(res.status).toBe(202);
    expect(res.headers.location).toBe(`/import/jobs/${jobId}`);
    expect(res.body).toMatchObject({
      message: 'Revert accepted',
      job_id: jobId,
      status: 'reverting',
      job: { id: jobId, status: 'reverting', revert: { status: 'running', async: true, total_rows: 2500 } },
    });
    const done = await eventually(async () => {
      const job = await getJob(jobId);
      return job.body.status === 'reverted' ? job.body : undefined;
    });
    expect(done.revert).toEqual({
      status: 'completed',
      async: true,
      rows_processed: 2500,
      total_rows: 2500,
      deleted: 2500,
      restored: 0,
      conflicts: 0,
      conflict_details: [],
      error: null,
    });
    expect(await countOf('bg')).toBe(0);
    const again = await request(app).post(`/import/jobs/${jobId}/revert?async=true`).set(actors.manager.headers);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('ALREADY_REVERTED');
  });

  it('refuses a second revert while one is running (409 REVERT_RUNNING), and a bad flag (400)', async () => {
    const jobId = await importRows(10, 'busy');
    await ImportJob.updateOne({ _id: jobId }, { $set: { status: 'reverting', revert_attempt: 1, revert_heartbeat_at: new Date() } });
    const res = await request(app).post(`/import/jobs/${jobId}/revert?async=true`).set(actors.manager.headers);
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('REVERT_RUNNING');
    expect(await countOf('busy')).toBe(10);
    const bad = await request(app).post(`/import/jobs/${jobId}/revert?async=maybe`).set(actors.manager.headers);
    expect(bad.status).toBe(400);
    expect(bad.body.details).toEqual([expect.objectContaining({ location: 'query', field: 'async' })]);
    const other = await request(app).post(`/import/jobs/${jobId}/revert?async=true`).set(actors.admin.headers);
    expect(other.status).toBe(404);
  });
});

describe('a revert that stopped half-way', () => {
  it('shows as failed with its progress, and resumes after the last batch it finished when asked again', async () => {
    const jobId = await importRows(2500, 'half');
    // The database fails the second batch's delete: the first 1,000 rows are reverted and checkpointed.
    const realDelete = Customer.collection.deleteMany.bind(Customer.collection);
    let calls = 0;
    const failing = jest.spyOn(Customer.collection, 'deleteMany').mockImplementation((filter, options) => {
      calls += 1;
      return calls === 2 ? Promise.reject(new Error('disk full')) : realDelete(filter, options);
    });
    const stopped = await request(app).post(`/import/jobs/${jobId}/revert`).set(actors.manager.headers);
    failing.mockRestore();
    expect(stopped.status).toBe(500);
    expect(await countOf('half')).toBe(1500);
    const job = await getJob(jobId);
    expect(job.body).toMatchObject({
      status: 'reverting',
      revert: { status: 'failed', rows_processed: 1000, deleted: 1000, error: { code: 'INTERNAL_ERROR' } },
    });

    const resumed = await request(app).post(`/import/jobs/${jobId}/revert`).set(actors.manager.headers);
    expect(resumed.status).toBe(200);
    expect(resumed.body).toEqual({ message: 'Import reverted', job_id: jobId, deleted: 2500, restored: 0, conflicts: 0 });
    expect(await countOf('half')).toBe(0);
    expect((await getJob(jobId)).body).toMatchObject({ status: 'reverted', revert: { status: 'completed', rows_processed: 2500 } });
  });

  it('is reported interrupted once its heartbeat is stale (process died), and resumed by the next request', async () => {
    const jobId = await importRows(1200, 'dead');
    const first = await ImportJob.findById(jobId).lean();
    // What a process killed mid-revert leaves: `reverting`, attempt 1 claimed, a heartbeat that stopped long ago.
    await ImportJob.updateOne(
      { _id: jobId },
      { $set: { status: 'reverting', revert_attempt: 1, revert_total_rows: 1200, revert_heartbeat_at: new Date(Date.now() - 3_600_000) } },
    );
    expect(first?.status).toBe('completed');
    const job = await getJob(jobId);
    expect(job.body).toMatchObject({ status: 'reverting', revert: { status: 'failed', error: { code: 'INTERRUPTED' } } });
    const resumed = await request(app).post(`/import/jobs/${jobId}/revert?async=true`).set(actors.manager.headers);
    expect(resumed.status).toBe(202);
    await eventually(async () => ((await getJob(jobId)).body.status === 'reverted' ? true : undefined));
    expect(await countOf('dead')).toBe(0);
  });
});
