// npm run bench:duplicates — GET /customers/duplicates at growing collection sizes: its cost must follow the page,
// not the number of customers (issue 20: p95 < 300 ms at 100k, no growth from 10k to 100k).
//
//   MONGODB_URI=mongodb://127.0.0.1:27017/ npm run bench:duplicates
//   BENCH_SIZES=10000,100000   customers seeded (the collection grows from one size to the next)
//   BENCH_RUNS=50              sequential requests per page measured
//
// Each size seeds customers straight into the collection as a version before the duplicate keys stored them (no
// keys, no marks), 5% of them a duplicate of the customer before, spread over the three rules; then the service's
// own start-up backfill (backfillDuplicateKeys, run here against the same database) keys and marks them, and its
// time is printed. The built service (dist/, rebuilt first) answers the pages: the first page, a page from a cursor
// 90% deep in the walk, the first page of one rule, and a USER's first page (it owns 1 customer in 8).
// A fresh database, dropped at the end.
import { execFileSync } from 'node:child_process';
import { MongoClient, ObjectId, type Db } from 'mongodb';
import mongoose from 'mongoose';
import { companyKey, searchTermsFor } from '../src/models/customer.model';
import { encodeCursor } from '../src/services/duplicate-groups.service';
import { backfillDuplicateKeys } from '../src/services/migrations.service';
import { describeEngine } from './lib/engine';
import { httpClient, percentile } from './lib/http';
import { benchEnv, root, startService } from './lib/service';

const sizes = (process.env.BENCH_SIZES ?? '10000,100000')
  .split(',')
  .map(Number)
  .filter((n) => n > 0)
  .sort((a, b) => a - b);
const runs = Number(process.env.BENCH_RUNS ?? 50);
const mongoUri = process.env.MONGODB_URI;
if (!mongoUri) throw new Error('MONGODB_URI is required (the database the service under test uses)');

const dbName = `crm_bench_duplicates_${Date.now().toString(36)}`;
const dbUri = new URL(mongoUri);
dbUri.pathname = `/${dbName}`;
const adminEmail = 'bench.admin@example.com';
const userEmail = 'bench.user@example.com';
const password = 'bench password 123';
const BATCH = 10_000;
/** One customer in 20 is a duplicate of the one before it: 5%. */
const DUPLICATE_EVERY = 20;

/** Customer i: unique phone, e-mail and name, unless it duplicates customer i - 1 by one rule (in turn). */
function customerDoc(i: number, owners: { admin: ObjectId; user: ObjectId }) {
  const base = i - 1;
  const duplicate = i % DUPLICATE_EVERY === 0 && i > 0 ? (['phone', 'email', 'name'] as const)[(i / DUPLICATE_EVERY) % 3] : undefined;
  const n = String(duplicate === 'phone' ? base : i).padStart(8, '0');
  // London numbers, written with and without spacing: one E.164 key.
  const phone = duplicate === 'phone' ? `+44 20 ${n.slice(0, 4)} ${n.slice(4)}` : `+4420${n}`;
  const email = duplicate === 'email' ? `firstlast${base}+crm@googlemail.com` : `first.last${i}@${i % 2 ? 'gmail.com' : 'example.com'}`;
  const company = `Company ${(duplicate === 'name' ? base : i) % 997}`;
  const name = duplicate === 'name' ? `  NAME   NUMBER ${base}` : `Name Number ${i}`;
  const at = new Date(Date.UTC(2024, 0, 1) + i * 1000);
  return {
    _id: new ObjectId(),
    name: name.trim(),
    email,
    company: duplicate === 'name' ? company.toUpperCase() : company,
    phone,
    status: 'lead',
    // The USER owns about 1 customer in 8, and both members of half the pairs.
    owner: [39, 3, 13, 23, 33].includes((duplicate ? base : i) % 40) ? owners.user : owners.admin,
    tags: [],
    token_version: 0,
    search_terms: searchTermsFor({ name, email, company }),
    company_key: companyKey(company),
    created_at: at,
    updated_at: at,
  };
}

async function seed(db: Db, from: number, to: number, owners: { admin: ObjectId; user: ObjectId }) {
  const started = Date.now();
  for (let i = from; i < to; i += BATCH) {
    const docs = Array.from({ length: Math.min(BATCH, to - i) }, (_, k) => customerDoc(i + k, owners));
    await db.collection('customers').insertMany(docs);
    process.stdout.write(`\r  seeding customers: ${Math.min(i + BATCH, to)}/${to} (${Math.round((Date.now() - started) / 1000)} s)`);
  }
  process.stdout.write('\n');
}

async function measure(send: ReturnType<typeof httpClient>, path: string, token: string) {
  const latencies: number[] = [];
  let groups = 0;
  for (let i = 0; i < runs; i += 1) {
    const reply = await send('GET', path, { token });
    if (reply.status !== 200) throw new Error(`${path}: ${reply.status} ${JSON.stringify(reply.body)}`);
    groups = (reply.body as { groups: unknown[] }).groups.length;
    latencies.push(reply.ms);
  }
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p95: percentile(latencies, 95), groups };
}

async function signin(send: ReturnType<typeof httpClient>, email: string): Promise<string> {
  for (let i = 0; i < 50; i += 1) {
    const reply = await send('POST', '/user/signin', { body: { email, password } });
    if (reply.status === 200) return String((reply.body as { token: string }).token);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${email} could not sign in`);
}

async function main() {
  console.log(`engine: ${await describeEngine(dbUri.toString())}`);
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  const service = await startService({
    ...benchEnv(dbUri.toString(), { email: adminEmail, password }),
    BCRYPT_COST: '10',
    MONGODB_TIMEOUT_MS: process.env.BENCH_DB_TIMEOUT_MS ?? '5000',
  });
  const send = httpClient(service.base, 1);
  const client = new MongoClient(dbUri.toString());
  const rows: string[] = [];
  try {
    const adminToken = await signin(send, adminEmail);
    const created = await send('POST', '/user/signup', { token: adminToken, body: { name: 'Bench User', email: userEmail, password } });
    if (created.status !== 201) throw new Error(`signup: ${created.status} ${JSON.stringify(created.body)}`);
    const userToken = await signin(send, userEmail);
    const me = await send('GET', '/me', { token: adminToken });
    const owners = {
      admin: new ObjectId(String((me.body as { id: string }).id)),
      user: new ObjectId((created.body as { user: { id: string } }).user.id),
    };
    await client.connect();
    await mongoose.connect(dbUri.toString());
    const db = client.db();
    let seeded = 0;
    for (const size of sizes) {
      console.log(`\n${size} customers`);
      await seed(db, seeded, size, owners);
      seeded = size;
      const started = Date.now();
      const keyed = await backfillDuplicateKeys();
      const backfillSeconds = (Date.now() - started) / 1000;
      const marks = await db.collection('duplicate_marks').countDocuments();
      console.log(`  backfill: ${keyed} customers keyed in ${backfillSeconds.toFixed(1)} s; ${marks} duplicate marks`);
      const deep = await db
        .collection<{ key: string }>('duplicate_marks')
        .find({}, { sort: { slot: 1, key: 1 }, skip: Math.floor(marks * 0.9), limit: 1, projection: { key: 1 } })
        .next();
      const pages: [string, string, string][] = [
        ['first page', '/customers/duplicates?limit=20', adminToken],
        ['page 90% deep', `/customers/duplicates?limit=20&cursor=${encodeCursor(deep?.key ?? 'phone:')}`, adminToken],
        ['rule=name first page', '/customers/duplicates?limit=20&rule=name', adminToken],
        ['USER first page', '/customers/duplicates?limit=20', userToken],
      ];
      for (const [label, path, token] of pages) {
        const { p50, p95, groups } = await measure(send, path, token);
        console.log(
          `  ${label.padEnd(22)} p50 ${p50.toFixed(1).padStart(6)} ms   p95 ${p95.toFixed(1).padStart(6)} ms   (${groups} groups)`,
        );
        rows.push(`| ${size} | ${marks} | ${label} | ${groups} | ${p50.toFixed(1)} | ${p95.toFixed(1)} | ${backfillSeconds.toFixed(1)} |`);
      }
    }
    console.log(`\n${runs} sequential requests per page, limit=20:\n`);
    console.log('| customers | duplicate marks | page | groups | p50 ms | p95 ms | backfill s |');
    console.log('|---:|---:|---|---:|---:|---:|---:|');
    for (const row of rows) console.log(row);
  } finally {
    await client
      .db()
      .dropDatabase()
      .catch(() => undefined);
    await client.close();
    await mongoose.disconnect();
    await service.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
