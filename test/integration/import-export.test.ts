import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { AbstractCursor } from 'mongodb';
import mongoose from 'mongoose';
import request from 'supertest';
import { Customer } from '../../src/models/customer.model';
import { ImportChange, ImportJob } from '../../src/models/import-job.model';
import { failStaleJobs } from '../../src/services/customer-import';
import { buildTestApp } from '../helpers/app';
import { createActors, type Actors } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';

useTestDatabase();
const app = buildTestApp({ importMaxBytes: 64 * 1024 });
let actors: Actors;
beforeAll(async () => {
  actors = await createActors(app);
});
beforeEach(async () => {
  // The actors' own customer records stay; import rows use @import.test addresses.
  await Customer.deleteMany({ email: /@import\.test$/ });
});

type Who = keyof Actors;

function importBody(body: string | Buffer, type: string, query = '', who: Who = 'manager', target = app) {
  return request(target).post(`/import/customer_data${query}`).set(actors[who].headers).set('Content-Type', type).send(body);
}
const importCsv = (csv: string, query = '', who: Who = 'manager') => importBody(csv, 'text/csv', query, who);

function textParser(res: http.IncomingMessage, callback: (error: Error | null, body: string) => void) {
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => (text += chunk));
  res.on('end', () => callback(null, text));
}

/** supertest's parser signature names its own response type; the stream is an IncomingMessage. */
const collectText = (res: unknown, callback: (error: Error | null, body: string) => void) =>
  textParser(res as http.IncomingMessage, callback);

function exportAs(format: string, query = '', who: Who = 'manager') {
  return request(app).get(`/export/customer_data?format=${format}${query}`).set(actors[who].headers).buffer(true).parse(collectText);
}

const header = 'Name,E-mail,Company,Phone,Status,Tags,City\n';
const csvRows = (n: number, prefix = 'row') =>
  Array.from({ length: n }, (_, i) => `${prefix} ${i},${prefix}${i}@import.test,ACME,+1 555 ${1000 + i},lead,bulk,Pune`).join('\n');

/** Drops the columns the database assigns (id, created_at, updated_at) from an exported CSV. */
function withoutAssigned(csv: string): string[] {
  return csv
    .trim()
    .split('\n')
    .map((line) => {
      const cells = line.split(',');
      return [...cells.slice(1, -2)].join(',');
    });
}

async function job(id: string, who: Who = 'manager') {
  const res = await request(app).get(`/import/jobs/${id}`).set(actors[who].headers);
  return res;
}

describe('POST /import/customer_data: rows, columns and report', () => {
  it('inserts valid rows, reports each bad field with its row, and records the import as a job', async () => {
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
    expect(ann).toMatchObject({
      name: 'Ann',
      company: 'ACME',
      phone: '+1 555 1000',
      status: 'active',
      tags: ['vip', 'gold'],
      address: { city: 'Pune' },
    });
    expect(String(ann?.owner)).toBe(actors.manager.id);
    expect(await ImportJob.findById(res.body.job_id).lean()).toMatchObject({ status: 'completed', rows_processed: 3, total_rows: 3 });
  });

  it('matches header aliases case-insensitively, reports unknown columns once, and ignores password columns', async () => {
    const csv =
      'FULL_NAME,e-mail,Organisation,Password,Favourite Colour,ZIP\nAnn,ann@import.test,ACME,hunter22hunter,red,411001\nBen,ben@import.test,,secret123456,blue,\n';
    const res = await importCsv(csv);
    expect(res.body).toMatchObject({
      total: 2,
      inserted: 2,
      failed: 0,
      unknown_columns: ['Favourite Colour'],
      ignored_columns: ['Password'],
    });
    const ann = await Customer.findOne({ email: 'ann@import.test' }).select('+password_hash').lean();
    expect(ann).toMatchObject({ name: 'Ann', company: 'ACME', address: { postal_code: '411001' } });
    expect(ann?.password_hash).toBeUndefined();
  });

  it('reads a JSON array and NDJSON with the same aliases, and a multipart `file` field', async () => {
    const json = JSON.stringify([
      { Name: 'Ann', Email: 'ann@import.test', tags: ['a', 'b'], address: { city: 'Pune' } },
      { name: 'Ben', email: 'BEN@import.test', password: 'x' },
    ]);
    const a = await importBody(json, 'application/json');
    expect(a.body).toMatchObject({ total: 2, inserted: 2, failed: 0, ignored_columns: ['password'] });
    const ndjson = '{"name":"Cid","email":"cid@import.test"}\n\n{"full_name":"Dee","e-mail":"dee@import.test","company":"X"}\n';
    const b = await importBody(ndjson, 'application/x-ndjson');
    expect(b.body).toMatchObject({ total: 2, inserted: 2, failed: 0 });
    const c = await request(app)
      .post('/import/customer_data')
      .set(actors.admin.headers)
      .attach('file', Buffer.from('name,email\nEve,eve@import.test\n'), { filename: 'people.csv', contentType: 'text/csv' });
    expect(c.status).toBe(200);
    expect(c.body).toMatchObject({ total: 1, inserted: 1 });
    expect(await Customer.countDocuments({ email: /@import\.test$/ })).toBe(5);
    expect(await Customer.findOne({ email: 'ann@import.test' }).lean()).toMatchObject({ tags: ['a', 'b'], address: { city: 'Pune' } });
  });

  it('fails the later row of an e-mail repeated in the file (in any case), keeping the first', async () => {
    const csv = `name,email\nAnn,ann@import.test\nBen,ben@import.test\nAnn Again,ANN@IMPORT.TEST\n`;
    const res = await importCsv(csv);
    expect(res.body).toMatchObject({
      total: 3,
      inserted: 2,
      failed: 1,
      errors: [{ row: 3, field: 'email', message: 'duplicate of row 1 in this file' }],
    });
    expect(await Customer.findOne({ email: 'ann@import.test' }).lean()).toMatchObject({ name: 'Ann' });
  });

  it('caps the listed errors while counting every failed row', async () => {
    const rows = Array.from({ length: 150 }, (_, i) => `Bad ${i},nope${i}`).join('\n');
    const res = await importCsv(`name,email\n${rows}\n`);
    expect(res.body).toMatchObject({ total: 150, failed: 150, inserted: 0 });
    expect(res.body.errors).toHaveLength(100);
  });
});

describe('modes, dry runs and atomic imports', () => {
  const seed = 'name,email,company\nAnn,ann@import.test,ACME\nBen,ben@import.test,Beta\n';
  const next = 'name,email,company\nAnn,ann@import.test,NewCo\nBen,ben@import.test,Beta\nCid,cid@import.test,Gamma\n';

  it('upsert (default) inserts new e-mails, updates changed rows, and skips equal ones', async () => {
    await importCsv(seed).expect(200);
    const res = await importCsv(next);
    expect(res.body).toMatchObject({ total: 3, inserted: 1, updated: 1, skipped: 1, failed: 0 });
    expect(await Customer.findOne({ email: 'ann@import.test' }).lean()).toMatchObject({ company: 'NewCo' });
  });

  it('re-importing the same file changes nothing, not even updated_at', async () => {
    await importCsv(next).expect(200);
    const before = await Customer.find({ email: /@import\.test$/ })
      .sort({ email: 1 })
      .lean();
    const res = await importCsv(next);
    expect(res.body).toMatchObject({ total: 3, inserted: 0, updated: 0, skipped: 3, failed: 0 });
    expect(
      await Customer.find({ email: /@import\.test$/ })
        .sort({ email: 1 })
        .lean(),
    ).toEqual(before);
  });

  it('insert fails rows whose e-mail exists; skip leaves them alone', async () => {
    await importCsv(seed).expect(200);
    const insert = await importCsv(next, '?mode=insert');
    expect(insert.body).toMatchObject({ inserted: 1, updated: 0, failed: 2 });
    expect(insert.body.errors.map((e: { field: string }) => e.field)).toEqual(['email', 'email']);
    await Customer.deleteOne({ email: 'cid@import.test' });
    const skip = await importCsv(next, '?mode=skip');
    expect(skip.body).toMatchObject({ inserted: 1, updated: 0, skipped: 2, failed: 0 });
    expect(await Customer.findOne({ email: 'ann@import.test' }).lean()).toMatchObject({ company: 'ACME' });
  });

  it('dry_run reports what would happen and writes nothing', async () => {
    await importCsv(seed).expect(200);
    const res = await importCsv(`${next}Bad,bad,\n`, '?dry_run=true');
    expect(res.body).toMatchObject({ total: 4, inserted: 1, updated: 1, skipped: 1, failed: 1, dry_run: true, applied: false });
    expect(await Customer.countDocuments({ email: /@import\.test$/ })).toBe(2);
    expect(await Customer.findOne({ email: 'ann@import.test' }).lean()).toMatchObject({ company: 'ACME' });
  });

  it('atomic writes nothing when any row fails, and everything when none does', async () => {
    const refused = await importCsv(`${next}Bad,bad,\n`, '?atomic=true');
    expect(refused.status).toBe(200);
    expect(refused.body).toMatchObject({ total: 4, failed: 1, applied: false, errors: [{ row: 4, field: 'email' }] });
    expect(await Customer.countDocuments({ email: /@import\.test$/ })).toBe(0);
    const accepted = await importCsv(next, '?atomic=true');
    expect(accepted.body).toMatchObject({ total: 3, inserted: 3, failed: 0, applied: true });
  });

  it('an empty cell clears an optional field of an existing customer', async () => {
    await importCsv('name,email,company,phone\nAnn,ann@import.test,ACME,+1 555\n').expect(200);
    const res = await importCsv('name,email,company,phone\nAnn,ann@import.test,,+1 555\n');
    expect(res.body).toMatchObject({ updated: 1 });
    const ann = await Customer.findOne({ email: 'ann@import.test' }).lean();
    expect(ann?.company).toBeUndefined();
    expect(ann?.phone).toBe('+1 555');
  });
});

describe('bad input', () => {
  it('answers 400 naming the line of malformed CSV', async () => {
    const res = await importCsv('name,email\nAnn,ann@import.test\nBen,"ben@import.test\n');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('BAD_REQUEST');
    expect(res.body.error).toMatch(/^Malformed CSV at line \d+/);
    const ragged = await importCsv('name,email\nAnn,ann@import.test,extra\n');
    expect(ragged.status).toBe(400);
    expect(ragged.body.error).toMatch(/Malformed CSV at line 2/);
  });

  it('answers 400 naming the row of malformed JSON and the line of malformed NDJSON', async () => {
    const json = await importBody('[{"name":"Ann","email":"ann@import.test"},\n{"name": "Ben", "email": }]', 'application/json');
    expect(json.status).toBe(400);
    expect(json.body.error).toMatch(/^Malformed JSON at row 2 \(line 2\)/);
    const notArray = await importBody('{"name":"Ann"}', 'application/json');
    expect(notArray.status).toBe(400);
    const unclosed = await importBody('[{"name":"Ann","email":"ann@import.test"}', 'application/json');
    expect(unclosed.status).toBe(400);
    expect(unclosed.body.error).toMatch(/not closed/);
    const ndjson = await importBody('{"name":"Ann","email":"ann@import.test"}\n{oops}\n', 'application/x-ndjson');
    expect(ndjson.status).toBe(400);
    expect(ndjson.body.error).toMatch(/^Malformed NDJSON at line 2/);
  });

  it('answers 415 for an unsupported or missing type, raw or multipart', async () => {
    expect((await importBody('<xml/>', 'application/xml')).status).toBe(415);
    const none = await request(app).post('/import/customer_data').set(actors.manager.headers).send(Buffer.from('name,email\n'));
    expect(none.status).toBe(415);
    const xlsx = await request(app).post('/import/customer_data').set(actors.manager.headers).attach('file', Buffer.from('PK...'), {
      filename: 'people.xlsx',
      contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    });
    expect(xlsx.status).toBe(415);
  });

  it('answers 400 for an empty file, a header without rows, an empty array, or a multipart body without `file`', async () => {
    const empty = await importCsv('');
    expect(empty.status).toBe(400);
    expect(empty.body.error).toBe('The file is empty');
    const headerOnly = await importCsv('name,email\n');
    expect(headerOnly.status).toBe(400);
    expect(headerOnly.body.error).toBe('The file has no data rows');
    expect((await importBody('[]', 'application/json')).status).toBe(400);
    const noFile = await request(app).post('/import/customer_data').set(actors.manager.headers).field('other', 'x');
    expect(noFile.status).toBe(400);
    expect(await ImportJob.findById(headerOnly.headers['x-import-job-id']).lean()).toMatchObject({
      status: 'failed',
      error: { status: 400 },
    });
  });

  it('answers 413 past the import limit, with Content-Length and chunked without one', async () => {
    const big = `${header}${csvRows(2000)}\n`; // > 64 KB, the limit of this test app
    const sized = await importCsv(big);
    expect(sized.status).toBe(413);
    const server = app.listen(0);
    try {
      const port = (server.address() as AddressInfo).port;
      const outcome = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/import/customer_data',
            headers: { ...actors.manager.headers, 'content-type': 'text/csv', 'transfer-encoding': 'chunked' },
          },
          (res) => textParser(res, (_e, body) => resolve({ status: res.statusCode ?? 0, body })),
        );
        req.on('error', reject);
        let sent = 0;
        const lines = big.split('\n');
        const write = () => {
          while (sent < lines.length) {
            const ok = req.write(`${lines[sent]}\n`);
            sent += 1;
            if (!ok) return void req.once('drain', write);
          }
          req.end();
        };
        write();
      });
      expect(outcome).toMatchObject({ status: 413, body: expect.stringContaining('PAYLOAD_TOO_LARGE') });
      expect(JSON.parse(outcome.body).code).toBe('PAYLOAD_TOO_LARGE');
    } finally {
      server.close();
    }
  });

  it('imports a file larger than the JSON body limit, streamed', async () => {
    const small = buildTestApp({ bodyLimit: 16 * 1024, importMaxBytes: 10 * 1024 * 1024 });
    const csv = `name,email,company,phone,status,tags,city\n${csvRows(3000)}\n`;
    expect(Buffer.byteLength(csv)).toBeGreaterThan(160 * 1024);
    const res = await importBody(csv, 'text/csv', '', 'manager', small);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ total: 3000, inserted: 3000, failed: 0 });
    expect(await Customer.countDocuments({ email: /^row\d+@import\.test$/ })).toBe(3000);
  });
});

describe('round trip', () => {
  const tricky = [
    'name,email,company,phone,status,tags,address_street,address_city,address_country',
    'Ann Smith,ann@import.test,"ACME, Inc.",+91 35636621762,active,vip; rt,"1 Main St, Apt ""2""",Pune,India',
    '=SUM(A1:A2),sum@import.test,@evil,+1 (0) 5,lead,rt,-1 Main,,',
    '"Line\nBreak",nl@import.test,Ünïcødé GmbH,,prospect,rt; x;y,,,',
    'Plain,plain@import.test,,,inactive,rt,,,',
  ].join('\n');

  it('export → import into an empty database → export gives the same file apart from ids and dates (CSV)', async () => {
    await importCsv(tricky).expect(200);
    const first = await exportAs('csv', '&tag=rt');
    expect(first.status).toBe(200);
    await Customer.deleteMany({ email: /@import\.test$/ });
    const again = await importCsv(first.body as string);
    expect(again.body).toMatchObject({ total: 4, inserted: 4, failed: 0, unknown_columns: [] });
    const second = await exportAs('csv', '&tag=rt');
    expect(withoutAssigned(second.body as string)).toEqual(withoutAssigned(first.body as string));
    // And importing the export over the data it came from changes nothing.
    expect((await importCsv(second.body as string)).body).toMatchObject({ total: 4, updated: 0, skipped: 4 });
  });

  it('round-trips JSON and NDJSON too', async () => {
    await importCsv(tricky).expect(200);
    for (const format of ['json', 'ndjson'] as const) {
      const first = await exportAs(format, '&tag=rt');
      expect(first.headers['content-type']).toMatch(format === 'json' ? /^application\/json/ : /^application\/x-ndjson/);
      await Customer.deleteMany({ email: /@import\.test$/ });
      const type = format === 'json' ? 'application/json' : 'application/x-ndjson';
      expect((await importBody(first.body as string, type)).body).toMatchObject({ total: 4, inserted: 4, failed: 0 });
      const second = await exportAs(format, '&tag=rt');
      const strip = (text: string) =>
        (format === 'json'
          ? (JSON.parse(text) as Record<string, unknown>[])
          : text
              .trim()
              .split('\n')
              .map((l) => JSON.parse(l) as Record<string, unknown>)
        ).map(({ id: _id, created_at: _c, updated_at: _u, ...rest }) => rest);
      expect(strip(second.body as string)).toEqual(strip(first.body as string));
    }
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
    expect(text.split('\n')[0]).toBe(
      'id,name,email,company,phone,status,owner_id,tags,address_street,address_city,address_state,address_postal_code,address_country,created_at,updated_at',
    );
    expect(text).toContain(`"'=HYPERLINK(""x"")"`);
    expect(text).toContain(`'@corp,'+44 20,lead`);
    expect(text).toContain(`,'-x,`);
    expect(text).not.toMatch(/password|hash|search_terms|token_version/);
  });

  it('picks the format from Accept, applies the list filters, and never exports a password hash', async () => {
    await request(app)
      .post('/customers')
      .set(actors.manager.headers)
      .send({ name: 'Pw', email: 'pw@import.test', password: 'a secret password', status: 'active' })
      .expect(201);
    await importCsv('name,email,status\nOther,other@import.test,lead\n').expect(200);
    const res = await request(app)
      .get('/export/customer_data?status=active&q=pw')
      .set(actors.admin.headers)
      .set('Accept', 'application/json');
    expect(res.status).toBe(200);
    expect(res.headers['content-disposition']).toMatch(/customers-\d{4}-\d{2}-\d{2}\.json/);
    expect(res.body).toEqual([expect.objectContaining({ email: 'pw@import.test', status: 'active' })]);
    expect(JSON.stringify(res.body)).not.toMatch(/password|\$2[aby]\$/);
    expect((await request(app).get('/export/customer_data').set(actors.admin.headers).set('Accept', 'application/xml')).status).toBe(406);
    expect((await request(app).get('/export/customer_data?format=xml').set(actors.admin.headers)).status).toBe(400);
  });

  it('exports only the header for a q without a letter or digit', async () => {
    await importCsv('name,email\nSym,sym@import.test\n').expect(200);
    const res = await request(app)
      .get(`/export/customer_data?q=${encodeURIComponent('=\u00a9\u009d')}`)
      .set(actors.admin.headers);
    expect(res.status).toBe(200);
    expect(res.text.trim().split('\n')).toHaveLength(1);
  });

  it('stops the cursor when the client disconnects mid-export, and keeps serving', async () => {
    // More rows than the cursor batch plus the read-ahead, so the cursor is still open at the disconnect
    // (in two files: this app's import limit is 64 kB).
    for (const from of [0, 2000]) {
      await importCsv(`name,email\n${Array.from({ length: 2000 }, (_, i) => `N${from + i},n${from + i}@import.test`).join('\n')}\n`).expect(
        200,
      );
    }
    const server = app.listen(0);
    // The service runs without command monitoring (it costs every command a second deserialisation): the
    // driver's cursor close, which sends killCursors for an open cursor, is watched instead.
    const closes = jest.spyOn(AbstractCursor.prototype, 'close');
    try {
      const port = (server.address() as AddressInfo).port;
      const received = await new Promise<number>((resolve, reject) => {
        const req = http.get(
          { host: '127.0.0.1', port, path: '/export/customer_data?format=ndjson', headers: actors.manager.headers },
          (res) => {
            res.once('data', (chunk: Buffer) => {
              req.destroy();
              resolve(chunk.length);
            });
          },
        );
        req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)));
      });
      expect(received).toBeGreaterThan(0);
      for (let i = 0; i < 100 && closes.mock.calls.length === 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(closes).toHaveBeenCalled();
      const after = await exportAs('csv', '&q=n3999');
      expect(after.status).toBe(200);
      expect(after.body as string).toContain('n3999@import.test');
    } finally {
      closes.mockRestore();
      server.close();
    }
  });
});

describe('jobs', () => {
  it('async=true answers 202 with a job that reaches completed with its report and progress', async () => {
    const res = await importCsv(
      `name,email\n${Array.from({ length: 2500 }, (_, i) => `A${i},a${i}@import.test`).join('\n')}\n`,
      '?async=true',
    );
    expect(res.status).toBe(202);
    expect(res.headers.location).toBe(`/import/jobs/${res.body.job_id}`);
    let status = res.body.job;
    for (let i = 0; i < 100 && status.status === 'running'; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = (await job(res.body.job_id)).body;
    }
    expect(status).toMatchObject({
      status: 'completed',
      rows_processed: 2500,
      total_rows: 2500,
      async: true,
      report: { total: 2500, inserted: 2500, failed: 0 },
    });
  });

  it('belongs to its creator: another manager gets 404', async () => {
    const res = await importCsv('name,email\nAnn,ann@import.test\n');
    expect((await job(res.body.job_id, 'admin')).status).toBe(404);
    expect((await job(res.body.job_id)).status).toBe(200);
    expect((await job('0'.repeat(24))).status).toBe(404);
    expect((await job('nope')).status).toBe(400);
  });

  it('a job whose process died (stale heartbeat) ends as failed with its progress', async () => {
    const id = new mongoose.Types.ObjectId();
    await ImportJob.collection.insertOne({
      _id: id,
      created_by: new mongoose.Types.ObjectId(actors.manager.id),
      status: 'running',
      mode: 'upsert',
      format: 'csv',
      rows_processed: 4000,
      report: { total: 4000, inserted: 4000, updated: 0, skipped: 0, failed: 0, errors: [], unknown_columns: [], ignored_columns: [] },
      heartbeat_at: new Date(Date.now() - 10 * 60_000),
      created_at: new Date(),
      updated_at: new Date(),
    });
    const res = await job(id.toHexString());
    expect(res.body).toMatchObject({ status: 'failed', rows_processed: 4000, error: { code: 'INTERRUPTED' } });
    await ImportJob.collection.updateOne({ _id: id }, { $set: { status: 'running' } });
    expect(await failStaleJobs()).toBeGreaterThanOrEqual(1);
    expect(await ImportJob.findById(id).lean()).toMatchObject({ status: 'failed' });
  });
});

describe('POST /import/jobs/:id/revert', () => {
  it('removes created rows and restores the previous values of updated rows', async () => {
    await importCsv('name,email,company,tags\nAnn,ann@import.test,ACME,a\nBen,ben@import.test,Beta,\n').expect(200);
    const before = await Customer.find({ email: /@import\.test$/ })
      .sort({ email: 1 })
      .lean();
    const res = await importCsv(
      'name,email,company,tags\nAnn Two,ann@import.test,,b\nBen,ben@import.test,Beta,\nCid,cid@import.test,Gamma,\n',
    );
    expect(res.body).toMatchObject({ inserted: 1, updated: 1, skipped: 1 });
    expect(await ImportChange.countDocuments({ job: res.body.job_id })).toBe(2); // one created batch, one updated row
    const revert = await request(app).post(`/import/jobs/${res.body.job_id}/revert`).set(actors.manager.headers);
    expect(revert.status).toBe(200);
    expect(revert.body).toMatchObject({ deleted: 1, restored: 1, conflicts: 0 });
    expect(
      await Customer.find({ email: /@import\.test$/ })
        .sort({ email: 1 })
        .lean(),
    ).toEqual(before);
    expect((await job(res.body.job_id)).body).toMatchObject({ status: 'reverted', revert: { deleted: 1, restored: 1, conflicts: 0 } });
    const twice = await request(app).post(`/import/jobs/${res.body.job_id}/revert`).set(actors.manager.headers);
    expect(twice.status).toBe(409);
  });

  it('refuses with 409 the rows changed since, reporting them, and reverts the rest', async () => {
    await importCsv('name,email,company\nAnn,ann@import.test,ACME\nBen,ben@import.test,Beta\n').expect(200);
    const res = await importCsv(
      'name,email,company\nAnn,ann@import.test,NewCo\nBen,ben@import.test,NewBeta\nCid,cid@import.test,Gamma\nDee,dee@import.test,Delta\n',
    );
    expect(res.body).toMatchObject({ inserted: 2, updated: 2 });
    const ann = await Customer.findOne({ email: 'ann@import.test' }).lean();
    const cid = await Customer.findOne({ email: 'cid@import.test' }).lean();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await request(app)
      .patch(`/customers/${String(ann?._id)}`)
      .set(actors.user.headers)
      .send({ phone: '+1 999' })
      .expect(200);
    await request(app)
      .patch(`/customers/${String(cid?._id)}`)
      .set(actors.user.headers)
      .send({ company: 'Changed' })
      .expect(200);
    const revert = await request(app).post(`/import/jobs/${res.body.job_id}/revert`).set(actors.manager.headers);
    expect(revert.status).toBe(409);
    expect(revert.body.code).toBe('REVERT_CONFLICT');
    expect(revert.body.details).toHaveLength(2);
    expect(revert.body.details.map((d: { location: string }) => d.location).sort()).toEqual(['row 1', 'row 3']);
    expect(await Customer.findOne({ email: 'ann@import.test' }).lean()).toMatchObject({ company: 'NewCo', phone: '+1 999' });
    expect(await Customer.findOne({ email: 'ben@import.test' }).lean()).toMatchObject({ company: 'Beta' });
    expect(await Customer.findOne({ email: 'cid@import.test' }).lean()).toMatchObject({ company: 'Changed' });
    expect(await Customer.exists({ email: 'dee@import.test' })).toBeNull();
    expect((await job(res.body.job_id)).body.revert).toMatchObject({ status: 'completed', deleted: 1, restored: 1, conflicts: 2 });
  });

  it('keeps a created customer that has gained interactions or tickets since, reporting it, as DELETE /customers would', async () => {
    const res = await importCsv('name,email,company\nAnn,ann@import.test,ACME\nBen,ben@import.test,Beta\nCid,cid@import.test,Gamma\n');
    expect(res.body).toMatchObject({ inserted: 3 });
    const idOf = async (email: string) => String((await Customer.findOne({ email }).lean())?._id);
    const [ann, ben] = [await idOf('ann@import.test'), await idOf('ben@import.test')];
    const meeting = await request(app)
      .post('/interactions')
      .set(actors.user.headers)
      .send({ customer_id: ann, type: 'meeting', title: 'Kick-off' })
      .expect(201);
    const call = await request(app)
      .post('/interactions')
      .set(actors.user.headers)
      .send({ customer_id: ben, type: 'call', title: 'Complaint' })
      .expect(201);
    const ticket = await request(app)
      .post(`/customers/ticket/${String(call.body.id)}`)
      .set(actors.user.headers)
      .send({ title: 'Refund' })
      .expect(201);
    expect((await request(app).delete(`/customers/${ann}`).set(actors.manager.headers)).status).toBe(409);

    const revert = await request(app).post(`/import/jobs/${res.body.job_id}/revert`).set(actors.manager.headers);
    expect(revert.status).toBe(409);
    expect(revert.body.code).toBe('REVERT_CONFLICT');
    expect(revert.body.details).toEqual([
      { location: 'row 1', field: ann, message: expect.stringMatching(/interactions or tickets/) },
      { location: 'row 2', field: ben, message: expect.stringMatching(/interactions or tickets/) },
    ]);
    expect(await Customer.exists({ email: 'ann@import.test' })).not.toBeNull();
    expect(await Customer.exists({ email: 'ben@import.test' })).not.toBeNull();
    expect(await Customer.exists({ email: 'cid@import.test' })).toBeNull();
    expect(
      (
        await request(app)
          .get(`/interactions/${String(meeting.body.id)}`)
          .set(actors.manager.headers)
      ).status,
    ).toBe(200);
    expect(
      (
        await request(app)
          .get(`/customers/tickets/${String(ticket.body.id)}`)
          .set(actors.manager.headers)
      ).status,
    ).toBe(200);
    expect((await job(res.body.job_id)).body.revert).toMatchObject({ status: 'completed', deleted: 1, restored: 0, conflicts: 2 });
  });

  it('refuses to revert a dry run', async () => {
    const res = await importCsv('name,email\nAnn,ann@import.test\n', '?dry_run=true');
    expect((await request(app).post(`/import/jobs/${res.body.job_id}/revert`).set(actors.manager.headers)).status).toBe(409);
  });
});

describe('access rules and rate limit', () => {
  it('USER and CUSTOMER get 403 on import, export and jobs; no token is 401', async () => {
    for (const who of ['user', 'customer'] as const) {
      expect((await importCsv('name,email\nAnn,ann@import.test\n', '', who)).status).toBe(403);
      expect((await exportAs('csv', '', who)).status).toBe(403);
      expect((await job('0'.repeat(24), who)).status).toBe(403);
      expect(
        (
          await request(app)
            .post(`/import/jobs/${'0'.repeat(24)}/revert`)
            .set(actors[who].headers)
        ).status,
      ).toBe(403);
    }
    expect((await request(app).get('/export/customer_data')).status).toBe(401);
    expect(await Customer.exists({ email: 'ann@import.test' })).toBeNull();
  });

  it('import and export share a stricter limit of their own', async () => {
    const limited = buildTestApp({
      rateLimit: {
        data: { windowMs: 60_000, limit: 2 },
        global: { windowMs: 60_000, limit: 1000 },
        auth: { windowMs: 60_000, limit: 1000 },
      },
    });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1)
      statuses.push((await request(limited).get('/export/customer_data?q=zzz').set(actors.admin.headers)).status);
    expect(statuses).toEqual([200, 200, 429]);
    const res = await request(limited)
      .post('/import/customer_data')
      .set(actors.admin.headers)
      .set('Content-Type', 'text/csv')
      .send('name,email\n');
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBeDefined();
    // Other routes are not counted against it.
    expect((await request(limited).get('/customers').set(actors.admin.headers)).status).toBe(200);
  });
});
