import { beforeAll, describe, expect, it, jest } from '@jest/globals';
import request from 'supertest';
import { Activity } from '../../src/models/activity.model';
import { Customer } from '../../src/models/customer.model';
import { buildTestApp } from '../helpers/app';
import { createActors, type Actors } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';
import { insertCustomer } from '../factories/customer';

// Issue 18 item 11: imports and reverts on the activity trail — one entry per job, and per-customer entries
// (written a batch at a time) that keep each customer's timeline true.

useTestDatabase();
const app = buildTestApp();
let actors: Actors;
beforeAll(async () => {
  actors = await createActors(app);
});

const importCsv = (csv: string, query = '') =>
  request(app).post(`/import/customer_data${query}`).set(actors.manager.headers).set('Content-Type', 'text/csv').send(csv);

describe('an import on the activity trail', () => {
  it('adds one import_job entry and one entry per created or updated customer, naming the job', async () => {
    const existing = await insertCustomer({ email: 'kept.trail@import.test', company: 'Old Co' });
    const res = await importCsv('name,email,company\nNew One,new.one@import.test,ACME\nKept,kept.trail@import.test,New Co\n');
    expect(res.body).toMatchObject({ inserted: 1, updated: 1 });
    const jobId = res.body.job_id;
    const created = await Customer.findOne({ email: 'new.one@import.test' }).lean();

    const trail = await request(app).get(`/activity?entity=import_job&entity_id=${jobId}`).set(actors.admin.headers);
    expect(trail.status).toBe(200);
    expect(trail.body).toEqual([
      expect.objectContaining({
        action: 'import',
        entity: 'import_job',
        entity_id: jobId,
        job_id: jobId,
        customer_id: null,
        actor: { type: 'user', id: actors.manager.id },
        fields: ['inserted', 'updated'],
      }),
    ]);

    const newTimeline = await request(app).get(`/customers/${created?._id.toHexString()}/activity`).set(actors.user.headers);
    expect(newTimeline.body).toEqual([
      expect.objectContaining({ action: 'create', entity: 'customer', job_id: jobId, actor: { type: 'user', id: actors.manager.id } }),
    ]);
    expect(newTimeline.body[0].fields).toEqual(expect.arrayContaining(['company', 'email', 'name', 'owner', 'status']));
    const keptTimeline = await request(app).get(`/customers/${existing.id}/activity`).set(actors.user.headers);
    expect(keptTimeline.body).toEqual([expect.objectContaining({ action: 'update', job_id: jobId, fields: ['company', 'name'] })]);
  });

  it('writes the entries of a batch in one insert, not one round trip per row', async () => {
    const insertMany = jest.spyOn(Activity.collection, 'insertMany');
    const insertOne = jest.spyOn(Activity.collection, 'insertOne');
    try {
      const rows = Array.from({ length: 250 }, (_, i) => `Bulk ${i},bulk${i}@trail.test`).join('\n');
      const res = await importCsv(`name,email\n${rows}\n`);
      expect(res.body).toMatchObject({ inserted: 250 });
      expect(insertMany).toHaveBeenCalledTimes(1);
      expect(insertMany.mock.calls[0]?.[0]).toHaveLength(250);
      expect(insertOne).toHaveBeenCalledTimes(1); // the job's own entry
      expect(await Activity.countDocuments({ job: res.body.job_id, entity: 'customer', action: 'create' })).toBe(250);
    } finally {
      insertMany.mockRestore();
      insertOne.mockRestore();
    }
  });

  it('adds nothing for a dry run', async () => {
    const res = await importCsv('name,email\nDry,dry.trail@import.test\n', '?dry_run=true');
    expect(res.body).toMatchObject({ inserted: 1, applied: false });
    expect(await Activity.countDocuments({ job: res.body.job_id })).toBe(0);
  });
});

describe('a revert on the activity trail', () => {
  it('adds a revert entry for the job, a delete for each created customer and an update for each restored one', async () => {
    const existing = await insertCustomer({ email: 'restored.trail@import.test', company: 'Before' });
    const res = await importCsv(
      'name,email,company,phone\nGone,gone.trail@import.test,ACME,\nRestored,restored.trail@import.test,After,+1 555 0101\n',
    );
    const jobId = res.body.job_id;
    const created = await Customer.findOne({ email: 'gone.trail@import.test' }).lean();
    const revert = await request(app).post(`/import/jobs/${jobId}/revert`).set(actors.manager.headers);
    expect(revert.status).toBe(200);

    const jobTrail = await request(app).get(`/activity?entity_id=${jobId}`).set(actors.admin.headers);
    expect(jobTrail.body.map((e: { action: string }) => e.action)).toEqual(['revert', 'import']);
    expect(jobTrail.body[0]).toMatchObject({ entity: 'import_job', job_id: jobId, fields: ['deleted', 'restored'] });

    const restoredTimeline = await request(app).get(`/customers/${existing.id}/activity`).set(actors.user.headers);
    expect(restoredTimeline.body).toEqual([
      expect.objectContaining({ action: 'update', job_id: jobId, fields: ['company', 'name', 'phone'] }),
      expect.objectContaining({ action: 'update', job_id: jobId, fields: ['company', 'name', 'phone'] }),
    ]);
    const gone = await request(app).get(`/activity?entity=customer&entity_id=${created?._id.toHexString()}`).set(actors.admin.headers);
    expect(gone.body.map((e: { action: string; job_id: string }) => [e.action, e.job_id])).toEqual([
      ['delete', jobId],
      ['create', jobId],
    ]);
    expect(await request(app).get('/activity?action=revert').set(actors.admin.headers)).toHaveProperty('status', 200);
  });
});
