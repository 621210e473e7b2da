// npm run bench:analytics — seeds 100k customers, 500k interactions and 100k tickets straight into the
// collections (as the services store them, date buckets included; like a bulk import that skipped the
// counters), then times the first analytics read (which builds the counters from the raw data) and prints
// p50/p95 latency of every analytics endpoint.
//
//   MONGODB_URI=mongodb://127.0.0.1:27017/ npm run bench:analytics
//   BENCH_SCALE=1 (fraction of the full data set)  BENCH_RUNS=20 (requests per endpoint)
//
// Needs `npm run build` first (the service runs from dist/ as in production).
import { MongoClient, ObjectId } from 'mongodb';
import { dateBuckets } from '../src/utils/date-buckets';
import { httpClient, percentile } from './lib/http';
import { benchEnv, startService } from './lib/service';
import { describeEngine } from './lib/engine';

const scale = Number(process.env.BENCH_SCALE ?? 1);
const runs = Number(process.env.BENCH_RUNS ?? 20);
const counts = { customers: Math.round(100_000 * scale), interactions: Math.round(500_000 * scale), tickets: Math.round(100_000 * scale) };
const mongoUri = process.env.MONGODB_URI;
if (!mongoUri) throw new Error('MONGODB_URI is required (the database the service under test uses)');

const dbName = `crm_bench_analytics_${Date.now()}`;
const dbUri = new URL(mongoUri);
dbUri.pathname = `/${dbName}`;
const adminEmail = 'bench.admin@example.com';
const password = 'bench password 123';
const DAY = 86_400_000;
const BATCH = 5000;

// A seeded generator, so every run inserts the same data.
let seed = 0x2f6b_1d3a;
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;

const customerStatuses = ['lead', 'prospect', 'active', 'inactive'] as const;
const interactionTypes = ['meeting', 'call', 'email', 'task', 'follow_up', 'note'] as const;
const priorities = ['low', 'medium', 'high', 'urgent'] as const;
const companies = Array.from({ length: 500 }, (_, i) => `Company ${i}`);

async function insertInBatches(
  label: string,
  total: number,
  make: (i: number) => Record<string, unknown>,
  insert: (docs: Record<string, unknown>[]) => Promise<unknown>,
) {
  const started = Date.now();
  for (let i = 0; i < total; i += BATCH) {
    const docs = Array.from({ length: Math.min(BATCH, total - i) }, (_, k) => make(i + k));
    await insert(docs);
  }
  console.log(`  seeded ${String(total).padStart(7)} ${label} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function main() {
  console.log(`engine: ${await describeEngine(dbUri.toString())}`);
  const service = await startService({
    ...benchEnv(dbUri.toString(), { email: adminEmail, password }),
    BCRYPT_COST: '10',
    // The 500 ms default answers 503 when a loaded machine delays the driver's heartbeat.
    MONGODB_TIMEOUT_MS: process.env.BENCH_DB_TIMEOUT_MS ?? '5000',
  });
  const send = httpClient(service.base, 4);
  const client = new MongoClient(mongoUri ?? '');
  try {
    console.log(`service ready at ${service.base}; signing in`);
    let adminToken = '';
    for (let i = 0; i < 50 && !adminToken; i += 1) {
      const signin = await send('POST', '/user/signin', { body: { email: adminEmail, password } });
      if (signin.status === 200) adminToken = String((signin.body as { token: string }).token);
      else await new Promise((resolve) => setTimeout(resolve, 200));
    }
    if (!adminToken) throw new Error('the admin could not sign in');
    // 20 staff users: the admin, 4 managers, 15 users.
    const staff: { id: string; token: string }[] = [];
    const me = await send('GET', '/me', { token: adminToken });
    staff.push({ id: String((me.body as { id: string }).id), token: adminToken });
    for (let i = 0; i < 19; i += 1) {
      const email = `bench.staff.${i}@example.com`;
      const role = i < 4 ? 'MANAGER' : 'USER';
      const created = await send('POST', '/user/signup', { token: adminToken, body: { name: `Staff ${i}`, email, password, role } });
      if (created.status !== 201) throw new Error(`signup: ${created.status} ${JSON.stringify(created.body)}`);
      const signin = await send('POST', '/user/signin', { body: { email, password } });
      staff.push({
        id: String((created.body as { user: { id: string } }).user.id),
        token: String((signin.body as { token: string }).token),
      });
    }
    const staffIds = staff.map((s) => new ObjectId(s.id));
    const userToken = staff[10]?.token ?? adminToken;

    await client.connect();
    const db = client.db(dbName);
    const now = Date.now();
    const today = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), new Date(now).getUTCDate());
    console.log(`\nanalytics bench: seeding (scale ${scale}) into ${dbName}`);

    const customerIds: ObjectId[] = [];
    await insertInBatches(
      'customers',
      counts.customers,
      (i) => {
        const id = new ObjectId();
        customerIds.push(id);
        const created = new Date(now - random() * 730 * DAY);
        const company = random() < 0.9 ? pick(companies) : undefined;
        return {
          _id: id,
          name: `Customer ${i}`,
          email: `customer.${i}@example.com`,
          ...(company ? { company } : {}),
          status: pick(customerStatuses),
          owner: pick(staffIds),
          tags: [],
          token_version: 0,
          search_terms: ['customer', String(i), `customer.${i}@example.com`],
          created_at: created,
          updated_at: created,
        };
      },
      (docs) => db.collection('customers').insertMany(docs),
    );

    const interactionIds: { id: ObjectId; customer: ObjectId; user: ObjectId }[] = [];
    await insertInBatches(
      'interactions',
      counts.interactions,
      (i) => {
        const id = new ObjectId();
        const customer = pick(customerIds);
        const user = pick(staffIds);
        if (i < counts.tickets) interactionIds.push({ id, customer, user });
        const occurs = new Date(now + (random() * 760 - 730) * DAY);
        const past = occurs.getTime() < now;
        const roll = random();
        const status = !past ? 'scheduled' : roll < 0.7 ? 'completed' : roll < 0.8 ? 'cancelled' : 'scheduled';
        const type = pick(interactionTypes);
        const created = new Date(Math.min(occurs.getTime(), now) - random() * 7 * DAY);
        return {
          _id: id,
          customer,
          user,
          type,
          title: `Interaction ${i}`,
          status,
          ...(type === 'task' || type === 'follow_up' ? { due_at: occurs } : { scheduled_at: occurs }),
          ...(status === 'completed' ? { completed_at: occurs } : {}),
          occurs_at: occurs,
          ...dateBuckets(occurs),
          created_at: created,
          updated_at: created,
        };
      },
      (docs) => db.collection('interactions').insertMany(docs),
    );

    await insertInBatches(
      'tickets',
      counts.tickets,
      (i) => {
        const on = interactionIds[i % interactionIds.length] ?? { id: new ObjectId(), customer: pick(customerIds), user: pick(staffIds) };
        const created = new Date(today - random() * 730 * DAY + random() * DAY);
        const roll = random();
        const status = roll < 0.2 ? 'open' : roll < 0.35 ? 'in_progress' : roll < 0.7 ? 'resolved' : 'closed';
        const resolvedAt =
          status === 'resolved' || (status === 'closed' && random() < 0.8)
            ? new Date(Math.min(now, created.getTime() + random() * 10 * DAY))
            : null;
        const c = dateBuckets(created);
        const r = resolvedAt ? dateBuckets(resolvedAt) : null;
        return {
          _id: new ObjectId(),
          interaction: on.id,
          customer: on.customer,
          interaction_user: on.user,
          title: `Ticket ${i}`,
          status,
          priority: pick(priorities),
          assigned_to: random() < 0.9 ? on.user : null,
          creator_type: 'user',
          creator: on.user,
          resolved_at: resolvedAt,
          resolution_seconds: resolvedAt ? Math.round((resolvedAt.getTime() - created.getTime()) / 1000) : null,
          created_day: c.day,
          created_week: c.week,
          created_month: c.month,
          resolved_day: r?.day ?? null,
          resolved_week: r?.week ?? null,
          resolved_month: r?.month ?? null,
          created_at: created,
          updated_at: resolvedAt ?? created,
        };
      },
      (docs) => db.collection('tickets').insertMany(docs),
    );

    // The data bypassed the services, so mark the counters stale as an import without apply*Changes would.
    await db.collection('analytics_state').deleteMany({});

    // First read: builds the counters from the raw collections (503 + Retry-After while that runs).
    const buildStarted = Date.now();
    for (;;) {
      const first = await send('GET', '/analytics/overview', { token: adminToken });
      if (first.status === 200) break;
      if (first.status !== 503) throw new Error(`overview: ${first.status} ${JSON.stringify(first.body)}`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const buildSeconds = (Date.now() - buildStarted) / 1000;
    const counterDocs = await db.collection('analytics_counters').countDocuments();

    const day = (offset: number) => new Date(today + offset * DAY).toISOString().slice(0, 10);
    const last30 = `from=${day(-29)}&to=${day(0)}`;
    const last365 = `from=${day(-364)}&to=${day(0)}`;
    const cases: [string, string, string][] = [
      ['overview ADMIN 30d', `/analytics/overview?${last30}`, adminToken],
      ['overview ADMIN 365d', `/analytics/overview?${last365}`, adminToken],
      ['overview USER 30d', `/analytics/overview?${last30}`, userToken],
      ['overview ADMIN 30d csv', `/analytics/overview?${last30}&format=csv`, adminToken],
      ['interactions day 30d', `/analytics/interactions?${last30}&group_by=day`, adminToken],
      ['interactions week 365d', `/analytics/interactions?${last365}&group_by=week`, adminToken],
      ['interactions month 365d', `/analytics/interactions?${last365}&group_by=month`, adminToken],
      ['interactions type 365d', `/analytics/interactions?${last365}&group_by=type`, adminToken],
      ['interactions status 365d', `/analytics/interactions?${last365}&group_by=status`, adminToken],
      ['interactions user 365d', `/analytics/interactions?${last365}&group_by=user`, adminToken],
      ['tickets day 30d', `/analytics/tickets?${last30}&group_by=day`, adminToken],
      ['tickets month 365d', `/analytics/tickets?${last365}&group_by=month`, adminToken],
      ['tickets status 365d', `/analytics/tickets?${last365}&group_by=status`, adminToken],
      ['tickets priority 365d', `/analytics/tickets?${last365}&group_by=priority`, adminToken],
      ['tickets assignee 365d', `/analytics/tickets?${last365}&group_by=assignee`, adminToken],
      ['customers day 30d', `/analytics/customers?${last30}&group_by=day`, adminToken],
      ['customers month 365d', `/analytics/customers?${last365}&group_by=month`, adminToken],
      ['customers status 365d', `/analytics/customers?${last365}&group_by=status`, adminToken],
      ['customers company 365d', `/analytics/customers?${last365}&group_by=company`, adminToken],
      ['customers owner 365d', `/analytics/customers?${last365}&group_by=owner`, adminToken],
      ['users 30d', `/analytics/users?${last30}`, adminToken],
      ['users 365d', `/analytics/users?${last365}`, adminToken],
    ];
    console.log(`\n  first read (counter build from raw data): ${buildSeconds.toFixed(1)} s, ${counterDocs} counter documents`);
    console.log(`\n  ${'endpoint'.padEnd(28)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)}   (${runs} sequential requests each)`);
    for (const [label, path, token] of cases) {
      const latencies: number[] = [];
      for (let i = 0; i < runs; i += 1) {
        const reply = await send('GET', path, { token });
        if (reply.status !== 200) throw new Error(`${label}: ${reply.status} ${JSON.stringify(reply.body)}`);
        latencies.push(reply.ms);
      }
      latencies.sort((a, b) => a - b);
      console.log(
        `  ${label.padEnd(28)} ${percentile(latencies, 50).toFixed(0).padStart(8)} ${percentile(latencies, 95).toFixed(0).padStart(8)}`,
      );
    }

    // Writes between reads: each read first folds the pending deltas.
    const interleaved: number[] = [];
    for (let i = 0; i < runs; i += 1) {
      const customer = customerIds[i] ?? customerIds[0];
      await send('PATCH', `/customers/${customer?.toHexString()}`, { token: adminToken, body: { status: pick(customerStatuses) } });
      const reply = await send('GET', `/analytics/overview?${last30}`, { token: adminToken });
      interleaved.push(reply.ms);
    }
    interleaved.sort((a, b) => a - b);
    console.log(
      `  ${'overview 30d after a write'.padEnd(28)} ${percentile(interleaved, 50).toFixed(0).padStart(8)} ${percentile(interleaved, 95).toFixed(0).padStart(8)}`,
    );
  } finally {
    await client
      .db(dbName)
      .dropDatabase()
      .catch(() => undefined);
    await client.close();
    await service.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
