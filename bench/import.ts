// npm run bench:import — imports generated CSV files through HTTP, exports them back, and compares with the
// raw MongoDB driver on the same database in the same run: bulk upserts by e-mail, and a cursor serialised
// to CSV. Prints rows/s, ratios and the service's peak RSS for each file size.
//
//   MONGODB_URI=mongodb://127.0.0.1:27017/ npm run bench:import
//   BENCH_ROWS=100000,1000000 (default)
//   BENCH_RAW_UPSERT_SECONDS=120 (default): the raw upsert baseline's time box (see rawUpsert); 0 skips it
//   BENCH_RAW=0: service only; BENCH_NODE_ARGS="--flag …": more Node options for the service;
//   BENCH_CPU_PROF=dir: the service writes a V8 CPU profile there when it stops
//
// Needs `npm run build` first (the service runs from dist/ as in production).
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify';
import { MongoClient, ObjectId, type AnyBulkWriteOperation, type Document } from 'mongodb';
import { benchEnv, startService, type RunningService } from './lib/service';
import { describeEngine } from './lib/engine';

const mongoUri = process.env.MONGODB_URI;
if (!mongoUri) throw new Error('MONGODB_URI is required (the database the service under test uses)');
const sizes = (process.env.BENCH_ROWS ?? '100000,1000000')
  .split(',')
  .map((s) => Number(s.trim()))
  .filter((n) => n > 0);
/** BENCH_RAW=0 skips the raw-driver baselines (service figures and RSS only). */
const withRaw = process.env.BENCH_RAW !== '0';
/** How long the raw upsert baseline runs at most (see rawUpsert). */
const rawUpsertSeconds = Number(process.env.BENCH_RAW_UPSERT_SECONDS ?? 120);
const adminEmail = 'bench.admin@example.com';
const password = 'bench password 123';
const statuses = ['lead', 'prospect', 'active', 'inactive'];

async function generateCsv(rows: number): Promise<string> {
  const file = path.join(os.tmpdir(), `crm-bench-${rows}-${process.pid}.csv`);
  const out = createWriteStream(file);
  const write = (text: string) => (out.write(text) ? Promise.resolve() : new Promise<void>((resolve) => out.once('drain', resolve)));
  await write('name,email,company,phone,status,tags,city\n');
  for (let i = 0; i < rows; i += 1) {
    await write(
      `Customer ${i},customer.${i}@bench.example,Company ${i % 5000},+91 ${String(9000000000 + i)},${statuses[i % 4]},tag${i % 20}; bulk,City ${i % 300}\n`,
    );
  }
  await new Promise<void>((resolve) => out.end(resolve));
  return file;
}

/** Samples the service's RSS every 100 ms; `peak()` is the highest seen since start. */
function rssSampler(service: RunningService) {
  let peak = service.rssMb();
  const timer = setInterval(() => {
    if (service.child.exitCode === null) peak = Math.max(peak, service.rssMb());
  }, 100);
  return { peak: () => peak, stop: () => clearInterval(timer) };
}

function postFile(base: string, token: string, file: string): Promise<{ status: number; body: string }> {
  const url = new URL('/import/customer_data', base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { token, 'content-type': 'text/csv', 'content-length': statSync(file).size },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    createReadStream(file).pipe(req);
  });
}

function getExport(base: string, token: string): Promise<{ status: number; bytes: number; lines: number }> {
  const url = new URL('/export/customer_data?format=csv', base);
  return new Promise((resolve, reject) => {
    http
      .get({ host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, headers: { token } }, (res) => {
        let bytes = 0;
        let lines = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines += 1;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, lines }));
      })
      .on('error', reject);
  });
}

function rawFields(record: Record<string, string>, now: Date) {
  return {
    name: record.name,
    company: record.company,
    phone: record.phone,
    status: record.status,
    tags: String(record.tags).split('; '),
    address: { city: record.city },
    updated_at: now,
  };
}

/**
 * The baseline import: the same rows, bulk upserts by e-mail with the raw driver, 1000 per batch, into a
 * new collection with a unique e-mail index. It stops after the batch that passes `seconds`: on a server
 * that scans the collection for each upsert (FerretDB 1.24) it slows as the collection grows, so the rate
 * of its first rows is an upper bound on its rate over the whole file.
 */
async function rawUpsert(client: MongoClient, dbName: string, file: string, seconds: number): Promise<{ rows: number; seconds: number }> {
  const collection = client.db(dbName).collection('raw_customers');
  await collection.createIndex({ email: 1 }, { unique: true });
  let ops: AnyBulkWriteOperation<Document>[] = [];
  let rows = 0;
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  const parser = createReadStream(file).pipe(parse({ columns: true }));
  for await (const record of parser as AsyncIterable<Record<string, string>>) {
    const now = new Date();
    const email = String(record.email).toLowerCase();
    ops.push({
      updateOne: {
        filter: { email },
        update: { $set: rawFields(record, now), $setOnInsert: { _id: new ObjectId(), email, created_at: now } },
        upsert: true,
      },
    });
    if (ops.length >= 1000) {
      await collection.bulkWrite(ops, { ordered: false });
      rows += ops.length;
      ops = [];
      if (elapsed() >= seconds) break;
    }
  }
  if (ops.length > 0) {
    await collection.bulkWrite(ops, { ordered: false });
    rows += ops.length;
  }
  parser.destroy();
  return { rows, seconds: elapsed() };
}

/**
 * A second, stricter reference: the same rows as new documents, insertMany 1000 at a time (no lookup at
 * all), into a collection with the same indexes as the service's customers.
 */
async function rawInsert(client: MongoClient, dbName: string, file: string): Promise<number> {
  const db = client.db(dbName);
  const collection = db.collection('raw_inserted');
  const indexes = (await db.collection('customers').listIndexes().toArray()) as { name: string; key: Document; unique?: boolean }[];
  for (const index of indexes) {
    if (index.name !== '_id_') await collection.createIndex(index.key, { name: index.name, unique: Boolean(index.unique) });
  }
  let docs: Document[] = [];
  let rows = 0;
  const parser = createReadStream(file).pipe(parse({ columns: true }));
  for await (const record of parser as AsyncIterable<Record<string, string>>) {
    const now = new Date();
    docs.push({ _id: new ObjectId(), email: String(record.email).toLowerCase(), created_at: now, ...rawFields(record, now) });
    rows += 1;
    if (docs.length >= 1000) {
      await collection.insertMany(docs);
      docs = [];
    }
  }
  if (docs.length > 0) await collection.insertMany(docs);
  await collection.drop();
  return rows;
}

/** The baseline export: a raw cursor over the service's customers, serialised with csv-stringify. */
async function rawExport(client: MongoClient, dbName: string): Promise<number> {
  let rows = 0;
  const cursor = client
    .db(dbName)
    .collection('customers')
    .find({}, { projection: { password_hash: 0, search_terms: 0 } })
    .sort({ _id: 1 })
    .batchSize(1000)
    .map((doc): unknown[] => {
      rows += 1;
      const address = doc.address as { city?: string } | undefined;
      return [
        String(doc._id),
        doc.name,
        doc.email,
        doc.company,
        doc.phone,
        doc.status,
        String(doc.owner),
        (doc.tags as string[]).join('; '),
        address?.city,
        (doc.created_at as Date).toISOString(),
      ];
    });
  const sink = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  await pipeline(
    cursor.stream(),
    stringify({ header: true, columns: ['id', 'name', 'email', 'company', 'phone', 'status', 'owner_id', 'tags', 'city', 'created_at'] }),
    sink,
  );
  return rows;
}

interface Result {
  rows: number;
  importRate: number;
  rawUpsertRate: number;
  rawUpsertRows: number;
  rawInsertRate: number;
  exportRate: number;
  rawExportRate: number;
  rssStart: number;
  rssPeakImport: number;
  rssPeak: number;
}

async function benchSize(rows: number, client: MongoClient): Promise<Result> {
  process.stdout.write(`\n${rows} rows: generating CSV… `);
  const file = await generateCsv(rows);
  process.stdout.write(`${(statSync(file).size / 1024 / 1024).toFixed(0)} MB; `);
  const dbUri = new URL(mongoUri as string);
  const dbName = `crm_bench_import_${rows}_${Date.now()}`;
  dbUri.pathname = `/${dbName}`;
  const service = await startService(
    {
      ...benchEnv(dbUri.toString(), { email: adminEmail, password }),
      IMPORT_MAX_BYTES: '2gb',
      BCRYPT_COST: '4',
      // Sign-ins retried before the configured admin exists must not lock the account.
      LOGIN_MAX_FAILURES: '100',
      LOGIN_LOCK_SECONDS: '1',
    },
    [
      ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
    ],
  );
  let sampler: ReturnType<typeof rssSampler> | undefined;
  try {
    let token = '';
    for (let i = 0; i < 300 && !token; i += 1) {
      const res = await fetch(`${service.base}/user/signin`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: adminEmail, password }),
      });
      if (res.status === 200) token = String(((await res.json()) as { token: string }).token);
      else await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const rssStart = service.rssMb();
    sampler = rssSampler(service);

    process.stdout.write('service import… ');
    let started = performance.now();
    const imported = await postFile(service.base, token, file);
    const importSeconds = (performance.now() - started) / 1000;
    const report = JSON.parse(imported.body) as { inserted?: number; failed?: number };
    if (imported.status !== 200 || report.inserted !== rows) throw new Error(`import: ${imported.status} ${imported.body.slice(0, 500)}`);

    const rssPeakImport = sampler.peak();
    process.stdout.write('service export… ');
    started = performance.now();
    const exported = await getExport(service.base, token);
    const exportSeconds = (performance.now() - started) / 1000;
    if (exported.status !== 200 || exported.lines !== rows + 1) throw new Error(`export: ${exported.status}, ${exported.lines} lines`);
    sampler.stop();
    const rssPeak = sampler.peak();

    let upserted = { rows: 0, seconds: Number.NaN };
    let rawInsertSeconds = Number.NaN;
    let rawExportSeconds = Number.NaN;
    let rawRows = rows;
    if (withRaw) {
      process.stdout.write('raw insertMany… ');
      started = performance.now();
      await rawInsert(client, dbName, file);
      rawInsertSeconds = (performance.now() - started) / 1000;

      if (rawUpsertSeconds > 0) {
        process.stdout.write('raw upsert… ');
        upserted = await rawUpsert(client, dbName, file, rawUpsertSeconds);
      }

      process.stdout.write('raw cursor→CSV… ');
      started = performance.now();
      rawRows = await rawExport(client, dbName);
      rawExportSeconds = (performance.now() - started) / 1000;
    }
    process.stdout.write('done\n');

    return {
      rows,
      importRate: rows / importSeconds,
      rawUpsertRate: upserted.rows / upserted.seconds,
      rawUpsertRows: upserted.rows,
      rawInsertRate: rows / rawInsertSeconds,
      exportRate: (rows + 1) / exportSeconds,
      rawExportRate: rawRows / rawExportSeconds,
      rssStart,
      rssPeakImport,
      rssPeak,
    };
  } finally {
    sampler?.stop();
    await service.stop();
    await client
      .db(dbName)
      .dropDatabase()
      .catch(() => undefined);
    await rm(file, { force: true });
  }
}

function printTable(results: Result[]) {
  const header = [
    'rows',
    'import rows/s',
    'raw upsert rows/s',
    'over rows',
    'ratio',
    'raw insertMany rows/s',
    'ratio',
    'export rows/s',
    'raw cursor→CSV rows/s',
    'ratio',
    'RSS start MB',
    'RSS peak import MB',
    'RSS peak MB',
    'growth MB',
  ];
  const table = results.map((r) => [
    n(r.rows),
    n(r.importRate),
    n(r.rawUpsertRate),
    n(r.rawUpsertRows),
    (r.importRate / r.rawUpsertRate).toFixed(2),
    n(r.rawInsertRate),
    (r.importRate / r.rawInsertRate).toFixed(2),
    n(r.exportRate),
    n(r.rawExportRate),
    (r.exportRate / r.rawExportRate).toFixed(2),
    r.rssStart.toFixed(0),
    r.rssPeakImport.toFixed(0),
    r.rssPeak.toFixed(0),
    (r.rssPeak - r.rssStart).toFixed(0),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]?.length ?? 0)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padStart(widths[i] ?? 0)).join(' | ')} |`;
  console.log('\nbench:import — service through HTTP vs the raw driver on the same database');
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of table) console.log(line(row));
}

const n = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '-');

async function main() {
  console.log(`engine: ${await describeEngine(mongoUri as string)}`);
  const client = new MongoClient(mongoUri as string);
  await client.connect();
  const results: Result[] = [];
  try {
    for (const rows of sizes) {
      results.push(await benchSize(rows, client));
      printTable(results);
    }
  } finally {
    await client.close();
  }

  const growth = results.map((r) => r.rssPeak - r.rssStart);
  const checks = [
    ...results.map((r) => [`import ≥ 50% of raw upsert (${n(r.rows)})`, r.importRate / r.rawUpsertRate >= 0.5] as const),
    ...results.map(
      (r) =>
        [
          `import ≥ 50% of raw insertMany, no lookup (${n(r.rows)}; stricter than the issue)`,
          r.importRate / r.rawInsertRate >= 0.5,
        ] as const,
    ),
    ...results.map((r) => [`export ≥ 70% of raw cursor→CSV (${n(r.rows)})`, r.exportRate / r.rawExportRate >= 0.7] as const),
    [`RSS growth < 100 MB for the largest file (${growth.at(-1)?.toFixed(0)} MB)`, (growth.at(-1) ?? 0) < 100] as const,
    [
      `RSS growth within 30 MB across sizes (${(Math.max(...growth) - Math.min(...growth)).toFixed(0)} MB)`,
      Math.max(...growth) - Math.min(...growth) <= 30,
    ] as const,
  ];
  console.log('\ntargets:');
  for (const [label, ok] of checks) console.log(`  ${ok ? 'PASS' : 'FAIL'}  ${label}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
