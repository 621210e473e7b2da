// npm run bench:api — the API measured against the practical limit on the same machine and database: a bare
// node:http server on the raw mongodb driver doing the same work (bench/lib/baseline.ts). Both run in this one
// invocation, against one database, scenario by scenario, so their ratio holds on a noisy machine.
//
//   MONGODB_URI=mongodb://127.0.0.1:27017/ npm run bench:api
//   BENCH_SIZES=100000,1000000   customers seeded (the collection grows from one size to the next)
//   BENCH_SECONDS=5              per scenario and target (plus a 1 s warm-up)
//   BENCH_CONNECTIONS=20         concurrent keep-alive connections
//   BENCH_SIGNINS=50             sign-ins kept in flight while /healthz is probed
//   BENCH_ONLY=POST,PATCH        only the scenarios whose name contains one of these
//   BENCH_EXTRAS_ONLY=1          only the /healthz-under-sign-ins and cluster figures
//
// The script builds the service (dist/, as in production), uses a fresh database and drops it at the end.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { MongoClient, ObjectId } from 'mongodb';
import { companyKey, searchTermsFor } from '../src/models/customer.model';
import { createKeyring, encryptText } from '../src/utils/crypto';
import { dateBuckets } from '../src/utils/date-buckets';
import { httpClient, percentile } from './lib/http';
import { root, startNodeArgs } from './lib/service';
import { describeEngine } from './lib/engine';

const sizes = (process.env.BENCH_SIZES ?? '100000,1000000')
  .split(',')
  .map(Number)
  .filter((n) => n > 0)
  .sort((a, b) => a - b);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 20);
const signins = Number(process.env.BENCH_SIGNINS ?? 50);
const slowConnections = Number(process.env.BENCH_SLOW_CONNECTIONS ?? 2);
/** BENCH_ONLY="POST,PATCH": only the scenarios whose name contains one of these. */
const only = process.env.BENCH_ONLY?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const mongoUri = process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27017/';

const runId = Date.now().toString(36);
const dbUri = new URL(mongoUri);
dbUri.pathname = `/crm_bench_${runId}`;
const jwtSecret = randomBytes(32).toString('base64');
const dataKey = randomBytes(32).toString('base64');
const keyring = createKeyring({ id: 'k1', key: dataKey });
const adminEmail = 'bench.admin@example.com';
const adminPassword = 'bench password 123';
const logDir = os.tmpdir();

interface Proc {
  child: ChildProcess;
  base: string;
  stop: () => Promise<number | null>;
}

/** Starts a Node process whose output goes to a file, and waits for its `"port":N` line (and /readyz). */
async function startNode(name: string, args: string[], env: Record<string, string>): Promise<Proc> {
  const logFile = path.join(logDir, `bench-api-${runId}-${name}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', fd, fd],
  });
  let port = 0;
  for (let i = 0; i < 600 && !port; i += 1) {
    if (child.exitCode !== null) throw new Error(`${name} exited:\n${readFileSync(logFile, 'utf8')}`);
    port = Number(/"port":(\d+)/.exec(readFileSync(logFile, 'utf8'))?.[1] ?? 0);
    if (!port) await sleep(50);
  }
  if (!port) throw new Error(`${name} did not start; see ${logFile}`);
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i += 1) {
    const ready = await fetch(`${base}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready || name.startsWith('baseline')) break;
    await sleep(100);
  }
  return {
    child,
    base,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.on('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const serviceEnv = (extra: Record<string, string> = {}) => ({
  NODE_ENV: 'production',
  LOG_LEVEL: 'info',
  MONGODB_URI: dbUri.toString(),
  JWT_SECRET: jwtSecret,
  DATA_ENCRYPTION_KEY: dataKey,
  ADMIN_EMAIL: adminEmail,
  ADMIN_PASSWORD: adminPassword,
  // The limiter stays in the path (its cost is part of every request) but never refuses the load.
  RATE_LIMIT_MAX: '100000000',
  AUTH_RATE_LIMIT_MAX: '100000000',
  // The lock-out reserves a slot per password check in flight: the sign-in load checks one account's right
  // password BENCH_SIGNINS times at once, which it would otherwise refuse (429) beyond LOGIN_MAX_FAILURES.
  LOGIN_MAX_FAILURES: '100',
  ...extra,
});

// ---------------------------------------------------------------------------------------------------------
// Seeding: the raw driver, large batches, documents exactly as the Customer and Interaction models store them.

const firstNames = ['Ada', 'Alan', 'Grace', 'Linus', 'Barbara', 'Ken', 'Margaret', 'Dennis', 'Frances', 'Edsger'];
const lastNames = ['Lovelace', 'Turing', 'Hopper', 'Torvalds', 'Liskov', 'Thompson', 'Hamilton', 'Ritchie', 'Allen', 'Dijkstra'];
const statuses = ['lead', 'prospect', 'active', 'inactive'] as const;
/** One company in 200 is "Northwind": the filtered search matches 0.5% of the collection. */
const companyOf = (i: number) => (i % 200 === 7 ? 'Northwind Traders' : `Company ${i % 997}`);
const epoch = Date.UTC(2024, 0, 1);

interface Seeded {
  count: number;
  ownerId: ObjectId;
  sampleIds: string[];
  /** Every customer's _id in insertion (= created_at) order is not kept; only the ones the bench needs. */
  idAt: Map<number, ObjectId>;
  interactionIds: string[];
}

async function seedCustomers(client: MongoClient, seeded: Seeded, upTo: number) {
  const customers = client.db().collection('customers');
  const batchSize = 10_000;
  const started = Date.now();
  const deepIndex = Math.floor(upTo * 0.9);
  while (seeded.count < upTo) {
    const batch = [];
    for (let n = 0; n < batchSize && seeded.count < upTo; n += 1, seeded.count += 1) {
      const i = seeded.count;
      const _id = new ObjectId();
      const name = `${firstNames[i % 10]} ${lastNames[Math.floor(i / 10) % 10]} ${i}`;
      const email = `customer.${i}@example${i % 50}.com`;
      const company = companyOf(i);
      const at = new Date(epoch + i * 1000);
      batch.push({
        _id,
        name,
        email,
        company,
        phone: `+1 555 ${String(i).padStart(7, '0')}`,
        status: statuses[i % 4],
        owner: seeded.ownerId,
        tags: i % 3 === 0 ? ['vip'] : [],
        address: { street: `${i} Main St`, city: 'Springfield', country: 'US' },
        token_version: 0,
        search_terms: searchTermsFor({ name, email, company }),
        company_key: companyKey(company),
        created_at: at,
        updated_at: at,
      });
      if (i % Math.max(1, Math.floor(upTo / 2000)) === 0 && seeded.sampleIds.length < 2000) seeded.sampleIds.push(_id.toHexString());
      if (i === deepIndex) seeded.idAt.set(upTo, _id);
    }
    await customers.insertMany(batch);
    process.stdout.write(`\r  seeding customers: ${seeded.count}/${upTo} (${Math.round((Date.now() - started) / 1000)} s)`);
  }
  process.stdout.write('\n');
}

async function seedInteractions(client: MongoClient, seeded: Seeded) {
  const docs = seeded.sampleIds.slice(0, 1000).map((customerId, i) => {
    const _id = new ObjectId();
    const at = new Date(epoch + i * 60_000);
    const id = _id.toHexString();
    seeded.interactionIds.push(id);
    return {
      _id,
      customer: new ObjectId(customerId),
      user: seeded.ownerId,
      type: 'call',
      title: `Call ${i}`,
      notes: encryptText(`Private notes for call ${i}: discussed renewal and pricing.`, keyring, `interaction:${id}:notes`),
      outcome: encryptText('Follow up next week', keyring, `interaction:${id}:outcome`),
      status: 'completed',
      scheduled_at: at,
      completed_at: at,
      occurs_at: at,
      ...dateBuckets(at),
      created_at: at,
      updated_at: at,
    };
  });
  await client.db().collection('interactions').insertMany(docs);
}

/** The service's keyset cursor for the row at 90% of the collection in the default sort (created_at, _id). */
function deepCursor(seeded: Seeded, size: number): string {
  const id = seeded.idAt.get(size);
  if (!id) throw new Error(`no deep row recorded for ${size}`);
  const at = new Date(epoch + Math.floor(size * 0.9) * 1000);
  return Buffer.from(JSON.stringify({ s: 'created_at', t: 'date', v: at.toISOString(), id: id.toHexString() })).toString('base64url');
}

// ---------------------------------------------------------------------------------------------------------
// Load

interface Scenario {
  name: string;
  group: 'read' | 'write' | 'list' | 'deep';
  method: 'GET' | 'POST' | 'PATCH';
  path: () => string;
  body?: () => string;
}

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  failures: number;
}

function scenarios(seeded: Seeded, size: number): Scenario[] {
  const pick = <T>(items: T[]) => items[Math.floor(Math.random() * items.length)] as T;
  let created = 0;
  return [
    { name: 'GET /customers/:id', group: 'read', method: 'GET', path: () => `/customers/${pick(seeded.sampleIds)}` },
    { name: 'GET /customers?limit=20', group: 'list', method: 'GET', path: () => '/customers?limit=20' },
    {
      name: 'GET /customers keyset page at 90%',
      group: 'deep',
      method: 'GET',
      path: () => `/customers?limit=20&after=${deepCursor(seeded, size)}`,
    },
    { name: 'GET /customers?q=northwind', group: 'list', method: 'GET', path: () => '/customers?limit=20&q=northwind' },
    {
      name: 'POST /customers',
      group: 'write',
      method: 'POST',
      path: () => '/customers',
      body: () => {
        created += 1;
        return JSON.stringify({
          name: `New Customer ${created}`,
          email: `new.${runId}.${size}.${created}.${randomBytes(4).toString('hex')}@example.com`,
          company: 'Bench Co',
          phone: '+1 555 0100',
        });
      },
    },
    {
      name: 'PATCH /customers/:id',
      group: 'write',
      method: 'PATCH',
      path: () => `/customers/${pick(seeded.sampleIds)}`,
      body: () => JSON.stringify({ status: pick([...statuses]), phone: `+1 555 ${Math.floor(Math.random() * 1e7)}` }),
    },
    { name: 'GET /interactions/:id', group: 'read', method: 'GET', path: () => `/interactions/${pick(seeded.interactionIds)}` },
  ];
}

async function load(
  base: string,
  token: string,
  scenario: Scenario,
  run: { seconds?: number; amount?: number; connections: number },
): Promise<Figures> {
  const started = process.hrtime.bigint();
  const result = await autocannon({
    url: base,
    connections: run.connections,
    ...(run.amount ? { amount: run.amount } : { duration: run.seconds ?? seconds }),
    timeout: 600,
    headers: { token, 'content-type': 'application/json' },
    requests: [
      {
        setupRequest: (req) => ({
          ...req,
          method: scenario.method,
          path: scenario.path(),
          ...(scenario.body ? { body: scenario.body() } : {}),
        }),
      },
    ],
  });
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    rps: result.requests.total / elapsed,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

/** One request's latency in ms (also the warm-up). */
async function probe(base: string, token: string, scenario: Scenario): Promise<number> {
  const started = process.hrtime.bigint();
  const reply = await fetch(`${base}${scenario.path()}`, {
    method: scenario.method,
    headers: { token, 'content-type': 'application/json' },
    ...(scenario.body ? { body: scenario.body() } : {}),
  });
  await reply.arrayBuffer();
  if (reply.status >= 300) throw new Error(`${scenario.name} on ${base}: status ${reply.status}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/**
 * Fast scenarios run for BENCH_SECONDS at BENCH_CONNECTIONS. Scenarios whose single request takes longer than
 * 250 ms on the baseline (FerretDB 1.x scans and sorts whole collections in memory, so a list on 100k documents
 * takes tens of seconds) run a fixed number of requests at BENCH_SLOW_CONNECTIONS instead: a timed-out request
 * would otherwise keep running in the database after the client gave up. Both targets get the same plan and
 * the same warm-up.
 */
async function compare(service: Proc, baseline: Proc, token: string, scenario: Scenario, serviceFirst: boolean) {
  const latency = await probe(baseline.base, token, scenario);
  const plan =
    latency < 250
      ? { seconds, connections }
      : { connections: slowConnections, amount: slowConnections * Math.max(1, Math.min(10, Math.ceil((seconds * 1000) / latency))) };
  const figures: Record<string, Figures> = {};
  for (const target of serviceFirst ? ['service', 'baseline'] : ['baseline', 'service']) {
    const base = target === 'service' ? service.base : baseline.base;
    // Warm-up, as a client's steady state: 1 s of load for fast scenarios; one request for slow ones (the
    // baseline's was the probe above).
    if (latency < 250) await load(base, token, scenario, { seconds: 1, connections });
    else if (target === 'service') await probe(base, token, scenario);
    figures[target] = await load(base, token, scenario, plan);
  }
  return {
    service: figures.service!,
    baseline: figures.baseline!,
    plan: plan.amount ? `${plan.amount} req at ${plan.connections} conn` : `${seconds} s at ${connections} conn`,
  };
}

/** /healthz latency while `signins` sign-ins (bcrypt at the service's cost) are in flight. */
async function healthzUnderSignins(
  base: string,
): Promise<{ p50: number; p99: number; max: number; signinsPerSecond: number; failures: number }> {
  const stop = Date.now() + seconds * 1000;
  const signinLoad = autocannon({
    url: `${base}/user/signin`,
    connections: signins,
    duration: seconds,
    timeout: 120,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: adminEmail, password: adminPassword }),
  });
  await sleep(500);
  const probe = httpClient(base, 1);
  const latencies: number[] = [];
  while (Date.now() < stop - 200) {
    latencies.push((await probe('GET', '/healthz')).ms);
    await sleep(10);
  }
  const result = await signinLoad;
  latencies.sort((a, b) => a - b);
  return {
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? 0,
    signinsPerSecond: result.requests.total / seconds,
    failures: result.non2xx + result.errors,
  };
}

async function signIn(base: string): Promise<{ token: string; sub: string }> {
  for (let i = 0; i < 100; i += 1) {
    const reply = await fetch(`${base}/user/signin`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: adminEmail, password: adminPassword }),
    });
    if (reply.status === 200) {
      const { token } = (await reply.json()) as { token: string };
      const sub = (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub: string }).sub;
      return { token, sub };
    }
    await sleep(200);
  }
  throw new Error('could not sign in as the bench ADMIN');
}

// ---------------------------------------------------------------------------------------------------------

const targets: Record<Scenario['group'], number> = { read: 0.8, write: 0.8, list: 0.7, deep: 0.8 };
const fmt = (n: number, digits = 0) => n.toFixed(digits);

async function main() {
  console.log(`engine: ${await describeEngine(mongoUri)}`);
  console.log(
    `bench:api — sizes ${sizes.join(', ')}; ${seconds} s per scenario at ${connections} connections; ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'})`,
  );
  console.log(`database ${dbUri.toString()}; logs in ${logDir}/bench-api-${runId}-*.log`);
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });

  const client = new MongoClient(dbUri.toString());
  await client.connect();
  const procs: Proc[] = [];
  try {
    const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
    const service = await startNode('service', [...startNodeArgs, ...profile, 'dist/server.js'], serviceEnv());
    procs.push(service);
    const { token, sub } = await signIn(service.base);
    const baseline = await startNode('baseline', ['--import', 'tsx', 'bench/lib/baseline.ts'], {
      MONGODB_URI: dbUri.toString(),
      JWT_SECRET: jwtSecret,
      DATA_ENCRYPTION_KEY: dataKey,
    });
    procs.push(baseline);

    const seeded: Seeded = { count: 0, ownerId: new ObjectId(sub), sampleIds: [], idAt: new Map(), interactionIds: [] };
    const rows: { size: number; scenario: Scenario; service: Figures; baseline: Figures; plan: string }[] = [];
    const extras: string[] = [];

    for (const size of sizes) {
      await seedCustomers(client, seeded, size);
      if (seeded.interactionIds.length === 0) await seedInteractions(client, seeded);
      console.log(`\n${size} customers:`);
      // Above 100k only what the growth figure needs: a lookup, the first page and the deep page.
      const chosen = scenarios(seeded, size).filter(
        (sc) =>
          !process.env.BENCH_EXTRAS_ONLY &&
          (!only || only.some((name) => sc.name.includes(name))) &&
          (size <= 100_000 || sc.group === 'deep' || sc.name === 'GET /customers/:id' || sc.name === 'GET /customers?limit=20'),
      );
      for (const scenario of chosen) {
        // Alternate which target goes first, so drift on the machine does not favour one side.
        const compared = await compare(service, baseline, token, scenario, rows.length % 2 === 0);
        const row = { size, scenario, ...compared };
        rows.push(row);
        console.log(
          `  ${scenario.name.padEnd(36)} service ${fmt(row.service.rps, 1).padStart(7)} req/s, baseline ${fmt(row.baseline.rps, 1).padStart(7)} req/s, ratio ${(row.service.rps / row.baseline.rps).toFixed(2)} (${row.plan})`,
        );
      }

      if (size === sizes[0]) {
        const health = await healthzUnderSignins(service.base);
        extras.push(
          `/healthz with ${signins} sign-ins in flight (${size} customers): p50 ${fmt(health.p50, 1)} ms, p99 ${fmt(health.p99, 1)} ms, max ${fmt(health.max, 1)} ms ` +
            `(target p99 < 20 ms); ${fmt(health.signinsPerSecond, 1)} sign-ins/s, ${health.failures} failed`,
        );
        console.log(`  ${extras.at(-1)}`);

        const read = scenarios(seeded, size)[0]!;
        const one = await load(service.base, token, read, { seconds, connections });
        const cluster = await startNode('service-x2', [...startNodeArgs, 'dist/server.js'], serviceEnv({ WEB_CONCURRENCY: '2' }));
        procs.push(cluster);
        await load(cluster.base, token, read, { seconds: 1, connections });
        const two = await load(cluster.base, token, read, { seconds, connections });
        const exit = await cluster.stop();
        procs.pop();
        extras.push(
          `${read.name} (${size} customers): one instance ${fmt(one.rps)} req/s (p99 ${one.p99} ms), ` +
            `WEB_CONCURRENCY=2 ${fmt(two.rps)} req/s (p99 ${two.p99} ms), x${(two.rps / one.rps).toFixed(2)}; cluster exit code after SIGTERM ${exit}`,
        );
        console.log(`  ${extras.at(-1)}`);
      }
    }

    console.log(
      '\n| customers | scenario | load | service req/s | p50 ms | p99 ms | baseline req/s | p50 ms | p99 ms | service/baseline | target |',
    );
    console.log('|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const { size, scenario, service: s, baseline: b, plan } of rows) {
      const ratio = s.rps / b.rps;
      const target = targets[scenario.group];
      const failures = s.failures + b.failures > 0 ? ` (non-2xx/errors: service ${s.failures}, baseline ${b.failures})` : '';
      console.log(
        `| ${size} | ${scenario.name} | ${plan} | ${fmt(s.rps, 1)} | ${s.p50} | ${s.p99} | ${fmt(b.rps, 1)} | ${b.p50} | ${b.p99} | ${ratio.toFixed(2)} | ≥ ${target}${ratio >= target ? ' ✓' : ' ✗'}${failures} |`,
      );
    }
    if (sizes.length > 1) {
      const [small, large] = [sizes[0]!, sizes.at(-1)!];
      console.log(`\ngrowth ${small} → ${large} customers (req/s at ${large} ÷ req/s at ${small}):`);
      for (const scenario of scenarios(seeded, small)) {
        const at = (size: number) => rows.find((r) => r.size === size && r.scenario.name === scenario.name);
        const a = at(small);
        const b = at(large);
        if (!a || !b) continue;
        console.log(
          `  ${scenario.name.padEnd(36)} service ×${(b.service.rps / a.service.rps).toFixed(2)}, baseline ×${(b.baseline.rps / a.baseline.rps).toFixed(2)}`,
        );
      }
    }
    console.log('');
    for (const line of extras) console.log(line);
    const exit = await service.stop();
    procs.shift();
    console.log(`service exit code after SIGTERM: ${exit}`);
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    if (!process.env.BENCH_KEEP_DB)
      await client
        .db()
        .dropDatabase()
        .catch(() => undefined);
    await client.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
