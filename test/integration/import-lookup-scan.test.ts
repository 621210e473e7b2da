import '../helpers/env/import-lookup-scan';
import { beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { Customer } from '../../src/models/customer.model';
import { buildTestApp } from '../helpers/app';
import { createActors, type Actors } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';

useTestDatabase();
const app = buildTestApp();
let actors: Actors;
beforeAll(async () => {
  actors = await createActors(app);
});

const importCsv = (csv: string, query = '') =>
  request(app).post(`/import/customer_data${query}`).set(actors.manager.headers).set('Content-Type', 'text/csv').send(csv);
const rows = (from: number, to: number, company = 'ACME') =>
  Array.from({ length: to - from }, (_, k) => `Scan ${from + k},scan${from + k}@import.test,${company}`);
const csv = (lines: string[]) => `name,email,company\n${lines.join('\n')}\n`;

describe('an import that reads every stored e-mail once (IMPORT_LOOKUP_BUDGET_MS=0, batches of 50)', () => {
  it('into an empty collection and then over it gives the same report as per-batch lookups', async () => {
    await Customer.deleteMany({}); // the customer actors' records too: the first import finds the collection empty
    const first = await importCsv(csv(rows(0, 120)));
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ total: 120, inserted: 120, updated: 0, skipped: 0, failed: 0 });

    // 60 unchanged, 60 with a new company, 60 new, and one e-mail repeated in the file.
    const second = await importCsv(csv([...rows(0, 60), ...rows(60, 120, 'Globex'), ...rows(120, 180), 'Again,SCAN5@import.test,ACME']));
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ total: 181, inserted: 60, updated: 60, skipped: 60, failed: 1 });
    expect(second.body.errors).toEqual([{ row: 181, field: 'email', message: 'duplicate of row 6 in this file' }]);
    expect(await Customer.countDocuments({ email: /@import\.test$/ })).toBe(180);
    expect(await Customer.countDocuments({ company: 'Globex' })).toBe(60);

    const again = await importCsv(csv([...rows(0, 60), ...rows(60, 120, 'Globex'), ...rows(120, 180)]));
    expect(again.body).toMatchObject({ total: 180, inserted: 0, updated: 0, skipped: 180, failed: 0 });
  });

  it('mode=insert refuses every stored e-mail and inserts the rest', async () => {
    const res = await importCsv(csv([...rows(170, 190)]), '?mode=insert');
    expect(res.body).toMatchObject({ total: 20, inserted: 10, failed: 10 });
    expect(res.body.errors).toHaveLength(10);
    const holder = await Customer.findOne({ email: 'scan170@import.test' }).lean();
    expect(res.body.errors[0]).toEqual({
      row: 1,
      field: 'email',
      message: `a customer with this e-mail already exists (id ${holder?._id.toHexString()})`,
    });
  });
});
