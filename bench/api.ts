// npm run bench:api — the API measured against the practical limit on the same machine and database: a bare
// node:http server on the raw mongodb driver doing the same work (bench/lib/baseline.ts). Both run in this one
// invocation, against one database, scenario by scenario, so their ratio holds on a noisy machine. Writes are
// also compared with the same bare server committing each write and its side entries in one transaction, as the
// service does on a replica set ("baseline+tx"), and GET /customers/:id with a typical Express + Mongoose +
// passport-jwt handler (bench/lib/peer.ts, the "peer"). Single-document reads and writes also run on the
// baseline's work behind Express 5 alone (the "floor": what Express costs before any middleware the service adds).
//
//   MONGODB_URI=mongodb://127.0.0.1:27017/ npm run bench:api
//   BENCH_SIZES=100000,1000000   customers seeded (the collection grows from one size to the next)
//   BENCH_SECONDS=5              per scenario and target
//   BENCH_WARMUP=4               seconds of load per scenario and target before its first window (fast scenarios)
//   BENCH_CONNECTIONS=20         concurrent keep-alive connections
//   BENCH_SIGNINS=50             sign-ins kept in flight while /healthz is probed
//   BENCH_HEALTHZ_SECONDS=10     how long /healthz is probed under them
//   BENCH_ONLY=POST,PATCH        only the scenarios whose name contains one of these
//   BENCH_EXTRAS_ONLY=1          only the /healthz-under-sign-ins and cluster figures
//   BENCH_EXTRAS=0               without them
//   BENCH_ROUNDS=2               each scenario twice per target (A B, then B A) and averaged: for busy machines.
//                                With BENCH_ROUNDS=6 BENCH_SECONDS=2 the targets take turns in short windows, as in
//                                bench:ab, so a machine whose speed drifts from one minute to the next favours none
//   BENCH_CPU_PROF=dir           the service writes a V8 CPU profile there when it stops (see bench:profile)
//   BENCH_POST_PHONE="+1 555 0100"  one phone for every POST /customers (each create a duplicate of all before it)
//
// After each of the service's write windows a read of duplicate groups makes it write the marks its creates queued,
// timed and printed as "marks settled … after the window" (where the engine scans for the duplicate lookup, marking
// waits for a pause in the writes: this is its cost, outside the window the ratio is taken from).
//
// The script builds the service (dist/, as in production), uses a fresh database and drops it at the end.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { MongoClient, ObjectId } from 'mongodb';
import { createKeyring } from '../src/utils/crypto';
import { httpClient, percentile } from './lib/http';
import { cpuTimeMs, root, signInAs, startNodeArgs } from './lib/service';
import { inspectEngine } from './lib/engine';
import { epoch, seedCustomers, seedInteractions, type Seeded } from './lib/seed';
import { autocannonRequests, customerPatchBody, customerPath, interactionPath, newCustomerBodies } from './lib/customer-requests';

const sizes = (process.env.BENCH_SIZES ?? '100000,1000000')
  .split(',')
  .map(Number)
  .filter((n) => n > 0)
  .sort((a, b) => a - b);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
// A fresh process's first creates cost it 3.7 CPU ms each, the next 2 s' 2.0, and ~1.1-1.7 from the fourth second of
// load on (two-second windows of POST /customers, 10k customers): V8 compiles the write path meanwhile. With the 1 s
// warm-up used before, the first measured window still paid for that, and the 10k writes, run first, came out
// slower than the same writes at 100k. Every target gets the same warm-up.
const warmupSeconds = Number(process.env.BENCH_WARMUP ?? 4);
// Long enough for /healthz's p99 to be a percentile: at a probe every ~12 ms, 10 s give ~800 probes (BENCH_SECONDS=2
// gave ~100, so the p99 was the single slowest probe).
const healthzSeconds = Number(process.env.BENCH_HEALTHZ_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 20);
const signins = Number(process.env.BENCH_SIGNINS ?? 50);
const slowConnections = Number(process.env.BENCH_SLOW_CONNECTIONS ?? 2);
/** BENCH_ROUNDS=2: each scenario measured twice per target, in A B B A order, and averaged. */
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 1));
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

const logFileOf = (name: string) => path.join(logDir, `bench-api-${runId}-${name}.log`);

interface Proc {
  name: string;
  child: ChildProcess;
  base: string;
  stop: () => Promise<number | null>;
}

/**
 * Starts a Node process whose output goes to a file, and waits for its `"port":N` line, and for the service
 * (`dist/server.js`) also for /readyz: the bare servers have none, their port line means they listen.
 */
async function startNode(name: string, args: string[], env: Record<string, string>): Promise<Proc> {
  const logFile = logFileOf(name);
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
  const isService = args.includes('dist/server.js');
  for (let i = 0; isService && i < 600; i += 1) {
    const ready = await fetch(`${base}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    await sleep(100);
  }
  return {
    name,
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

/** Waits (up to 60 s) until the log of the process started as `name` has `count` lines matching `pattern`. */
async function waitForLog(name: string, pattern: RegExp, count: number): Promise<void> {
  const logFile = logFileOf(name);
  for (let i = 0; i < 600; i += 1) {
    if ((readFileSync(logFile, 'utf8').match(pattern)?.length ?? 0) >= count) return;
    await sleep(100);
  }
  throw new Error(`${name}: fewer than ${count} lines matching ${pattern} after 60 s; see ${logFile}`);
}

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
  /** CPU time (user + system) the server process spent per completed request, in ms. */
  cpuMs: number;
  /**
   * The service's write scenarios: how long after the window the duplicate marks its writes queued took to be
   * written, with one page of groups (a read of groups settles them). Where the engine scans for the lookup,
   * marking waits for a pause in the writes, so it falls after the window rather than in it (README "Duplicates").
   */
  settleMs?: number;
}

function scenarios(seeded: Seeded, size: number): Scenario[] {
  return [
    { name: 'GET /customers/:id', group: 'read', method: 'GET', path: customerPath(seeded.sampleIds) },
    { name: 'GET /customers?limit=20', group: 'list', method: 'GET', path: () => '/customers?limit=20' },
    {
      name: 'GET /customers keyset page at 90%',
      group: 'deep',
      method: 'GET',
      path: () => `/customers?limit=20&after=${deepCursor(seeded, size)}`,
    },
    { name: 'GET /customers?q=northwind', group: 'list', method: 'GET', path: () => '/customers?limit=20&q=northwind' },
    { name: 'POST /customers', group: 'write', method: 'POST', path: () => '/customers', body: newCustomerBodies(`${runId}.${size}`) },
    { name: 'PATCH /customers/:id', group: 'write', method: 'PATCH', path: customerPath(seeded.sampleIds), body: customerPatchBody },
    { name: 'GET /interactions/:id', group: 'read', method: 'GET', path: interactionPath(seeded.interactionIds) },
  ];
}

async function load(
  target: Pick<Proc, 'base' | 'child'>,
  token: string,
  scenario: Scenario,
  run: { seconds?: number; amount?: number; connections: number },
): Promise<Figures> {
  if (run.amount) return loadCount(target, token, scenario, run.amount, run.connections);
  const started = process.hrtime.bigint();
  const cpuBefore = cpuTimeMs(target.child.pid);
  const result = await autocannon({
    url: target.base,
    connections: run.connections,
    duration: run.seconds ?? seconds,
    timeout: 600,
    headers: { token, 'content-type': 'application/json' },
    requests: autocannonRequests(scenario),
  });
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    rps: result.requests.total / elapsed,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
    cpuMs: (cpuTimeMs(target.child.pid) - cpuBefore) / Math.max(1, result.requests.total),
  };
}

/**
 * A fixed number of requests over `connections` keep-alive connections, timed to the last answer: autocannon's
 * `amount` ends on its 1 s tick, which made the req/s of a few slow requests read the same on every side.
 */
async function loadCount(target: Pick<Proc, 'base' | 'child'>, token: string, scenario: Scenario, amount: number, connections: number) {
  const send = httpClient(target.base, connections);
  const latencies: number[] = [];
  let failures = 0;
  let sent = 0;
  const started = process.hrtime.bigint();
  const cpuBefore = cpuTimeMs(target.child.pid);
  const connection = async () => {
    while (sent < amount) {
      sent += 1;
      const reply = await send(scenario.method, scenario.path(), {
        token,
        ...(scenario.body ? { body: JSON.parse(scenario.body()) } : {}),
      }).catch(() => undefined);
      if (!reply || reply.status >= 300) failures += 1;
      if (reply) latencies.push(reply.ms);
    }
  };
  await Promise.all(Array.from({ length: connections }, connection));
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  return {
    rps: amount / elapsed,
    p50: Math.round(percentile(latencies, 50)),
    p99: Math.round(percentile(latencies, 99)),
    failures,
    cpuMs: (cpuTimeMs(target.child.pid) - cpuBefore) / amount,
  };
}

/** Makes the service write the duplicate marks its writes queued (a read of groups settles them); its time in ms. */
async function settleMarks(base: string, token: string): Promise<number> {
  const started = performance.now();
  const reply = await fetch(`${base}/customers/duplicates?limit=1`, { headers: { token } });
  await reply.arrayBuffer();
  if (reply.status !== 200) throw new Error(`GET /customers/duplicates on ${base}: status ${reply.status}`);
  return performance.now() - started;
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
 * takes tens of seconds), or so long that BENCH_CONNECTIONS of them served one after another would fill the
 * window, run a fixed number of requests at BENCH_SLOW_CONNECTIONS instead: a timed-out request
 * would otherwise keep running in the database after the client gave up, and a short window could end before
 * any completed. Both targets get the same plan and the same warm-up.
 */
async function compare(targets: Proc[], token: string, scenario: Scenario, reversed: boolean) {
  const [reference] = targets.filter((target) => target.name === 'baseline');
  const latency = await probe((reference ?? targets[0]!).base, token, scenario);
  // Fast: each connection completes a request in a window even if the engine serves them one at a time.
  const fast = latency < 250 && latency * connections < seconds * 1000;
  const plan = fast
    ? { seconds, connections }
    : { connections: slowConnections, amount: slowConnections * Math.max(1, Math.min(10, Math.ceil((seconds * 1000) / latency))) };
  const measured: Record<string, Figures[]> = {};
  for (let round = 0; round < rounds; round += 1) {
    // Each round reverses the order of the one before (A B, B A, …): drift on the machine favours no one.
    const order = (round % 2 === 1) !== reversed ? [...targets].reverse() : targets;
    for (const target of order) {
      // Warm-up, to measure a steady state, before a target's first window: BENCH_WARMUP seconds of load for fast
      // scenarios; one request for slow ones (the baseline's was the probe above).
      if (round === 0 && fast) {
        await load(target, token, scenario, { seconds: warmupSeconds, connections });
        // The marks the warm-up's writes queued are written before the first window, not during it.
        if (target.name === 'service' && scenario.group === 'write') await settleMarks(target.base, token);
      } else if (round === 0 && target !== reference) await probe(target.base, token, scenario);
      const figures = await load(target, token, scenario, plan);
      // Before the next target's window: what the service's writes left to mark is marked now, and timed.
      if (target.name === 'service' && scenario.group === 'write') figures.settleMs = await settleMarks(target.base, token);
      (measured[target.name] ??= []).push(figures);
    }
  }
  const figures = Object.fromEntries(Object.entries(measured).map(([name, runs]) => [name, combine(runs)]));
  const per = rounds > 1 ? ` ×${rounds} rounds` : '';
  return {
    figures,
    plan: plan.amount ? `${plan.amount} req at ${plan.connections} conn${per}` : `${seconds} s at ${connections} conn${per}`,
  };
}

/** Several rounds of one target as one figure: mean req/s and CPU per request, the worse p50 and p99. */
function combine(runs: Figures[]): Figures {
  const mean = (pick: (f: Figures) => number) => runs.reduce((sum, f) => sum + pick(f), 0) / runs.length;
  return {
    rps: mean((f) => f.rps),
    p50: Math.max(...runs.map((f) => f.p50)),
    p99: Math.max(...runs.map((f) => f.p99)),
    failures: runs.reduce((sum, f) => sum + f.failures, 0),
    cpuMs: mean((f) => f.cpuMs),
    ...(runs.some((f) => f.settleMs !== undefined) && { settleMs: mean((f) => f.settleMs ?? 0) }),
  };
}

/** /healthz latency while `signins` sign-ins (bcrypt at the service's cost) are in flight. */
async function healthzUnderSignins(
  base: string,
): Promise<{ p50: number; p99: number; max: number; probes: number; signinsPerSecond: number; failures: number }> {
  const stop = Date.now() + healthzSeconds * 1000;
  const signinLoad = autocannon({
    url: `${base}/user/signin`,
    connections: signins,
    duration: healthzSeconds,
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
    probes: latencies.length,
    signinsPerSecond: result.requests.total / healthzSeconds,
    failures: result.non2xx + result.errors,
  };
}

// ---------------------------------------------------------------------------------------------------------

const targets: Record<Scenario['group'], number> = { read: 0.8, write: 0.8, list: 0.7, deep: 0.8 };
const fmt = (n: number, digits = 0) => n.toFixed(digits);

interface Row {
  size: number;
  scenario: Scenario;
  figures: Record<string, Figures>;
  plan: string;
}

const rpsOf = (row: Row, name: string) => row.figures[name]?.rps ?? NaN;
const ratioOf = (row: Row, name: string) => rpsOf(row, 'service') / rpsOf(row, name);

/** /healthz under sign-ins, and one instance against WEB_CONCURRENCY=2 (printed at the smallest size). */
async function extraFigures(service: Proc, seeded: Seeded, size: number, token: string, procs: Proc[]): Promise<string[]> {
  const lines: string[] = [];
  const health = await healthzUnderSignins(service.base);
  lines.push(
    `/healthz with ${signins} sign-ins in flight (${size} customers): p50 ${fmt(health.p50, 1)} ms, p99 ${fmt(health.p99, 1)} ms, max ${fmt(health.max, 1)} ms ` +
      `over ${health.probes} probes (target p99 < 20 ms); ${fmt(health.signinsPerSecond, 1)} sign-ins/s, ${health.failures} failed`,
  );
  console.log(`  ${lines.at(-1)}`);

  const read = scenarios(seeded, size)[0]!;
  const one = await load(service, token, read, { seconds, connections });
  const cluster = await startNode('service-x2', [...startNodeArgs, 'dist/server.js'], serviceEnv({ WEB_CONCURRENCY: '2' }));
  procs.push(cluster);
  // /readyz answered from one worker: wait for both, then warm both up as every server was at this size.
  await waitForLog('service-x2', /"msg":"ready"/g, 2);
  await load(cluster, token, read, { seconds: 2, connections });
  const two = await load(cluster, token, read, { seconds, connections });
  const exit = await cluster.stop();
  procs.pop();
  // A second worker can only help when one process is CPU-bound (near 100% of a core) and a core is spare.
  const busy = (one.cpuMs * one.rps) / 10;
  lines.push(
    `${read.name} (${size} customers): one instance ${fmt(one.rps)} req/s (p99 ${one.p99} ms, service at ${fmt(busy)}% of a core, ` +
      `load average ${fmt(os.loadavg()[0] ?? 0, 1)} on ${os.cpus().length} CPUs), ` +
      `WEB_CONCURRENCY=2 ${fmt(two.rps)} req/s (p99 ${two.p99} ms), x${(two.rps / one.rps).toFixed(2)}; ` +
      `non-2xx/errors ${one.failures} and ${two.failures}; cluster exit code after SIGTERM ${exit}`,
  );
  console.log(`  ${lines.at(-1)}`);
  return lines;
}

const mark = (ratio: number, target: number) => `≥ ${target}${ratio >= target ? ' ✓' : ' ✗'}`;

function printTables(rows: Row[]) {
  console.log(
    '\n| customers | scenario | load | service req/s | p50 ms | p99 ms | CPU ms/req | baseline req/s | p50 ms | p99 ms | CPU ms/req | service/baseline | target |',
  );
  console.log('|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of rows) {
    const { service: s, baseline: b } = row.figures;
    if (!s || !b) continue;
    const ratio = s.rps / b.rps;
    const failures = s.failures + b.failures > 0 ? ` (non-2xx/errors: service ${s.failures}, baseline ${b.failures})` : '';
    console.log(
      `| ${row.size} | ${row.scenario.name} | ${row.plan} | ${fmt(s.rps, 1)} | ${s.p50} | ${s.p99} | ${fmt(s.cpuMs, 2)} | ${fmt(b.rps, 1)} | ${b.p50} | ${b.p99} | ${fmt(b.cpuMs, 2)} | ${ratio.toFixed(2)} | ${mark(ratio, targets[row.scenario.group])}${failures} |`,
    );
  }
  const writes = rows.filter((row) => row.figures['baseline+tx']);
  if (writes.length > 0) {
    console.log(
      '\nWrites against the same bare server committing each write and its side entries in one transaction (as the service does):',
    );
    console.log(
      '\n| customers | scenario | service req/s | CPU ms/req | baseline+tx req/s | p50 ms | p99 ms | CPU ms/req | service/(baseline+tx) |',
    );
    console.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const row of writes) {
      const { service: s, 'baseline+tx': t } = row.figures;
      if (!s || !t) continue;
      console.log(
        `| ${row.size} | ${row.scenario.name} | ${fmt(s.rps, 1)} | ${fmt(s.cpuMs, 2)} | ${fmt(t.rps, 1)} | ${t.p50} | ${t.p99} | ${fmt(t.cpuMs, 2)} | ${(s.rps / t.rps).toFixed(2)} |`,
      );
    }
  }
  const floors = rows.filter((row) => row.figures.floor);
  if (floors.length > 0) {
    console.log("\nThe baseline's work behind Express 5 alone (express.json(), a route per path, res.json()): the framework's own cost:");
    console.log('\n| customers | scenario | baseline req/s | floor req/s | CPU ms/req | floor/baseline | service/floor |');
    console.log('|---:|---|---:|---:|---:|---:|---:|');
    for (const row of floors) {
      const { service: s, baseline: b, floor: e } = row.figures;
      if (!s || !b || !e) continue;
      console.log(
        `| ${row.size} | ${row.scenario.name} | ${fmt(b.rps, 1)} | ${fmt(e.rps, 1)} | ${fmt(e.cpuMs, 2)} | ${(e.rps / b.rps).toFixed(2)} | ${(s.rps / e.rps).toFixed(2)} |`,
      );
    }
  }
  const peers = rows.filter((row) => row.figures.peer);
  if (peers.length > 0) {
    console.log('\nThe same GET-by-id on a typical Express + Mongoose + passport-jwt handler (bench/lib/peer.ts):');
    console.log(
      '\n| customers | scenario | service req/s | p99 ms | CPU ms/req | peer req/s | p50 ms | p99 ms | CPU ms/req | service/peer | target |',
    );
    console.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const row of peers) {
      const { service: s, peer: q } = row.figures;
      if (!s || !q) continue;
      const ratio = s.rps / q.rps;
      console.log(
        `| ${row.size} | ${row.scenario.name} | ${fmt(s.rps, 1)} | ${s.p99} | ${fmt(s.cpuMs, 2)} | ${fmt(q.rps, 1)} | ${q.p50} | ${q.p99} | ${fmt(q.cpuMs, 2)} | ${ratio.toFixed(2)} | ${mark(ratio, 1.5)} |`,
      );
    }
  }
}

async function main() {
  const engine = await inspectEngine(mongoUri);
  console.log(`engine: ${engine.description}`);
  // baseline+tx commits in a transaction: only where the engine has them (FerretDB's refusal made it answer 500).
  const transactional = engine.transactions;
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
    const { token, sub } = await signInAs(service.base, { email: adminEmail, password: adminPassword });
    const bare = { MONGODB_URI: dbUri.toString(), JWT_SECRET: jwtSecret, DATA_ENCRYPTION_KEY: dataKey };
    const baseline = await startNode('baseline', ['--import', 'tsx', 'bench/lib/baseline.ts'], bare);
    procs.push(baseline);
    const baselineTx = transactional
      ? await startNode('baseline+tx', ['--import', 'tsx', 'bench/lib/baseline.ts'], { ...bare, BASELINE_TRANSACTIONS: '1' })
      : undefined;
    if (baselineTx) procs.push(baselineTx);
    const peer = await startNode('peer', ['--import', 'tsx', 'bench/lib/peer.ts'], bare);
    procs.push(peer);
    const floor = await startNode('floor', ['--import', 'tsx', 'bench/lib/baseline.ts'], { ...bare, BASELINE_EXPRESS: '1' });
    procs.push(floor);

    const seeded: Seeded = { count: 0, ownerId: new ObjectId(sub), sampleIds: [], idAt: new Map(), interactionIds: [] };
    const rows: Row[] = [];
    const extras: string[] = [];

    for (const size of sizes) {
      await seedCustomers(client, seeded, size);
      if (seeded.interactionIds.length === 0) await seedInteractions(client, seeded, keyring);
      // A checkpoint now, so the engine is not still writing out the seeded documents while the first scenario
      // runs (an engine without `fsync` just carries on).
      await client
        .db()
        .admin()
        .command({ fsync: 1 })
        .catch(() => undefined);
      console.log(`\n${size} customers:`);
      // Above 100k only what the growth figure needs: a lookup, the first page and the deep page.
      const chosen = scenarios(seeded, size).filter(
        (sc) =>
          !process.env.BENCH_EXTRAS_ONLY &&
          (!only || only.some((name) => sc.name.includes(name))) &&
          (size <= 100_000 || sc.group === 'deep' || sc.name === 'GET /customers/:id' || sc.name === 'GET /customers?limit=20'),
      );
      // Every server warmed up once on a lookup (JIT, connection pools, the engine's cache of the new
      // documents), so the first scenario measured is not also the one that pays for it.
      const lookup = scenarios(seeded, size)[0]!;
      for (const target of [service, baseline, baselineTx, peer, floor])
        if (target) await load(target, token, lookup, { seconds: 2, connections });
      // The extras first, on the seeded customers alone: the bare servers' creates store no duplicate keys, which a
      // process started after them (the cluster's workers) would backfill before it is ready.
      if (size === sizes[0] && process.env.BENCH_EXTRAS !== '0') extras.push(...(await extraFigures(service, seeded, size, token, procs)));
      for (const scenario of chosen) {
        const against = [service, baseline];
        if (scenario.group === 'write' && baselineTx) against.push(baselineTx);
        if (scenario.name === 'GET /customers/:id') against.push(peer);
        if (scenario.group === 'read' || scenario.group === 'write') against.push(floor);
        // Alternate which target goes first, so drift on the machine does not favour one side.
        const compared = await compare(against, token, scenario, rows.length % 2 === 1);
        const row = { size, scenario, ...compared };
        rows.push(row);
        const figures = Object.entries(row.figures)
          .map(([name, f]) => {
            const settled = f.settleMs === undefined ? '' : `, marks settled ${fmt(f.settleMs, 0)} ms after the window`;
            return `${name} ${fmt(f.rps, 1)} req/s (${fmt(f.cpuMs, 2)} CPU ms/req${settled})`;
          })
          .join(', ');
        console.log(`  ${scenario.name.padEnd(36)} ${figures}; service/baseline ${ratioOf(row, 'baseline').toFixed(2)} (${row.plan})`);
      }
    }

    printTables(rows);
    if (sizes.length > 1) {
      const [small, large] = [sizes[0]!, sizes.at(-1)!];
      console.log(`\ngrowth ${small} → ${large} customers (req/s at ${large} ÷ req/s at ${small}):`);
      for (const scenario of scenarios(seeded, small)) {
        const at = (size: number) => rows.find((r) => r.size === size && r.scenario.name === scenario.name);
        const a = at(small);
        const b = at(large);
        if (!a || !b) continue;
        console.log(
          `  ${scenario.name.padEnd(36)} service ×${(rpsOf(b, 'service') / rpsOf(a, 'service')).toFixed(2)}, baseline ×${(rpsOf(b, 'baseline') / rpsOf(a, 'baseline')).toFixed(2)}`,
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
