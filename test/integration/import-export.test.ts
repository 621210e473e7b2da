import { beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { Customer } from '../../src/models/customer.model';
import { ImportChange, ImportJob } from '../../src/models/import-job.model';
import { buildTestApp } from '../helpers/app';
import { createActors, type Actors } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';

useTestDatabase();
const app = buildTestApp();
let actors: Actors;
beforeAll(async () => {
  actors = await createActors(app);
});
beforeEach(async () => {
  // The actors' own customer records stay; import rows use @import.test addresses.
  await Customer.deleteMany({ email: /@import\.test$/ });
});

function importCsv(csv: string, query = '', who: keyof Actors = 'manager') {
  return request(app).post(`/import/customer_data${query}`).set(actors[who].headers).set('Content-Type', 'text/csv').send(csv);
}

function exportAs(format: string, query = '') {
  return request(app)
    .get(`/export/customer_data?format=${format}${query}`)
    .set(actors.manager.headers)
    .buffer(true)
    .parse((res, callback) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => callback(null, text));
    });
}

const header = 'Name,E-mail,Company,Phone,Status,Tags,City\n';

describe('POST /import/customer_data (CSV)', () => {
  it('inserts valid rows, reports bad ones, and records a job', async () => {
    const csv = `${header}Ann,ANN@import.test,ACME,+1 555 1000,active,vip; gold,Pune\nBob,not-an-email,,,,,\nCid,cid@import.test,,,vip,,\n`;
    const res = await importCsv(csv);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ total: 3, inserted: 1, updated: 0, skipped: 0, failed: 2, status: 'completed', applied: true });
    expect(res.body.errors).toEqual([
      { row: 2, field: 'email', message: expect.any(String) },
      { row: 3, field: 'status', message: expect.any(String) },
    ]);
    expect(res.headers['x-import-job-id']).toBe(res.body.job_id);
    const ann = await Customer.findOne({ email: 'ann@import.test' }).lean();
    expect(ann).toMatchObject({ name: 'Ann', company: 'ACME', phone: '+1 555 1000', status: 'active', tags: ['vip', 'gold'], address: { city: 'Pune' } });
    expect(String(ann?.owner)).toBe(actors.manager.id);
    const job = await ImportJob.findById(res.body.job_id).lean();
    expect(job).toMatchObject({ status: 'completed', rows_processed: 3, total_rows: 3 });
  });
});

describe('GET /export/customer_data', () => {
  it('exports CSV as an attachment with a dated name, neutralising formulas and never a secret', async () => {
    await importCsv(`${header}"=HYPERLINK(""x"")",eve@import.test,@corp,+44 20,lead,-x,\n`).expect(200);
    const res = await exportAs('csv', '&q=eve');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="customers-\d{4}-\d{2}-\d{2}\.csv"$/);
    const text = res.body as string;
    expect(text.split('\n')[0]).toBe('id,name,email,company,phone,status,owner_id,tags,address_street,address_city,address_state,address_postal_code,address_country,created_at,updated_at');
    expect(text).toContain(`"'=HYPERLINK(""x"")"`);
    expect(text).toContain(`'@corp,'+44 20,lead`);
    expect(text).toContain(`,'-x,`);
    expect(text).not.toMatch(/password|hash|search_terms|token_version/);
  });
});
