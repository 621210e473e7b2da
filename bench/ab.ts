// npm run bench:ab — two (or more) builds of the service compared on one path, in the same run, against one database:
// each built tree runs as its own process beside the bare-driver baseline (bench/lib/baseline.ts), and the load
// goes to them in short windows, many times, in alternating order (A B base, base B A, …), so that a machine whose
// speed drifts by ±10–25% from one minute to the next (shared tenants) favours none of them. Prints each target's
// req/s, its CPU per request (from /proc: user + system, all threads), its ratio to the baseline and its peak RSS.
//
//   BENCH_TREES=/path/to/old-checkout,.   built trees (each with `npm run build` done and node_modules); default: .
//                                         each runs with the Node flags of its own `npm start`
//   BENCH_PATH=POST                       POST (creates), PATCH (status + phone of a seeded customer), GET (by id) or
//                                         INTERACTION (GET /interactions/:id, 1,000 seeded with encrypted notes)
//   BENCH_CUSTOMERS=10000                 customers seeded first
//   BENCH_ROUNDS=8  BENCH_SECONDS=2       windows per target, and their length, at BENCH_CONNECTIONS (20)
//   BENCH_CPU_PROF_DIR=dir                every target (the baseline too) runs under `node --cpu-prof`, its profile
//                                         written to dir/<target> as it stops: the service's frames beside the
//                                         baseline's, from the same interleaved load
//
// A tree to compare with is made with `git worktree add /tmp/old <commit>`, `ln -s "$PWD/node_modules"
// /tmp/old/node_modules` and `npx tsc -p tsconfig.build.json` in it. The trees share JWT_SECRET and
// DATA_ENCRYPTION_KEY, so one token serves all; the database is dropped at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { MongoClient, ObjectId } from 'mongodb';
import { describeEngine } from './lib/engine';
import { createKeyring } from '../src/utils/crypto';
import { seedCustomers, seedInteractions, type Seeded } from './lib/seed';
import {
  autocannonRequests,
  customerPatchBody,
  customerPath,
  interactionPath,
  newCustomerBodies,
  type BenchRequest,
} from './lib/customer-requests';
import { cpuTimeMs, root, rssMbOf, signInAs, startNodeArgsOf } from './lib/service';

const trees = (process.env.BENCH_TREES ?? '.').split(',').map((tree) => path.resolve(root, tree.trim()));
const pathName = (process.env.BENCH_PATH ?? 'POST').toUpperCase();
const customers = Number(process.env.BENCH_CUSTOMERS ?? 10_000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 8);
const seconds = Number(process.env.BENCH_SECONDS ?? 2);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 20);
const mongoUri = process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27017/';
const runId = Date.now().toString(36);
const dbUri = new URL(mongoUri);
dbUri.pathname = `/crm_ab_${runId}`;
const secrets = { JWT_SECRET: randomBytes(32).toString('base64'), DATA_ENCRYPTION_KEY: randomBytes(32).toString('base64') };
const admin = { email: 'bench.admin@example.com', password: 'bench password 123' };

interface Target {
  name: string;
  child: ChildProcess;
  base: string;
}

/** Starts `node args` in `cwd`, and waits for its `"port":N` line and an answer on /readyz. */
async function start(name: string, cwd: string, args: string[], env: Record<string, string>): Promise<Target> {
  const logFile = path.join(os.tmpdir(), `bench-ab-${runId}-${name.replace(/\W+/g, '_')}.log`);
  const profileDir = process.env.BENCH_CPU_PROF_DIR;
  const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(profileDir, name.replace(/\W+/g, '_'))}`, ...args] : args;
  const child = spawn(process.execPath, nodeArgs, {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', openSync(logFile, 'a'), openSync(logFile, 'a')],
  });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited:\n${readFileSync(logFile, 'utf8')}`);
    const port = Number(/"port":(\d+)/.exec(readFileSync(logFile, 'utf8'))?.[1] ?? 0);
    // The baseline has no /readyz: any answer means it listens.
    const base = `http://127.0.0.1:${port}`;
    const answered =
      port > 0 &&
      (await fetch(`${base}/readyz`).then(
        (reply) => reply.status === 200 || name === 'baseline',
        () => false,
      ));
    if (answered) return { name, child, base };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`${name} did not start within 60 s (log: ${logFile})`);
}

function requestFor(seeded: Seeded): BenchRequest {
  if (pathName === 'GET') return { method: 'GET', path: customerPath(seeded.sampleIds) };
  if (pathName === 'INTERACTION') return { method: 'GET', path: interactionPath(seeded.interactionIds) };
  if (pathName === 'PATCH') return { method: 'PATCH', path: customerPath(seeded.sampleIds), body: customerPatchBody };
  return { method: 'POST', path: () => '/customers', body: newCustomerBodies(runId) };
}

async function main() {
  console.log(`engine: ${await describeEngine(mongoUri)}`);
  console.log(
    `bench:ab — ${pathName === 'INTERACTION' ? 'GET /interactions/:id' : `${pathName} /customers`}, ${customers} customers, ${rounds} × ${seconds} s per target at ${connections} connections`,
  );
  const client = new MongoClient(dbUri.toString());
  await client.connect();
  const serviceEnv = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    MONGODB_URI: dbUri.toString(),
    ...secrets,
    ADMIN_EMAIL: admin.email,
    ADMIN_PASSWORD: admin.password,
    RATE_LIMIT_MAX: '100000000',
    AUTH_RATE_LIMIT_MAX: '100000000',
  };
  const targets: Target[] = [];
  try {
    for (const tree of trees) targets.push(await start(`service ${tree}`, tree, [...startNodeArgsOf(tree), 'dist/server.js'], serviceEnv));
    targets.push(
      await start('baseline', root, ['--import', 'tsx', 'bench/lib/baseline.ts'], { MONGODB_URI: dbUri.toString(), ...secrets }),
    );
    const { token, sub } = await signInAs(targets[0]?.base ?? '', admin);
    const seeded: Seeded = { count: 0, ownerId: new ObjectId(sub), sampleIds: [], idAt: new Map(), interactionIds: [] };
    await seedCustomers(client, seeded, customers);
    if (pathName === 'INTERACTION') await seedInteractions(client, seeded, createKeyring({ id: 'k1', key: secrets.DATA_ENCRYPTION_KEY }));
    const request = requestFor(seeded);
    const load = (target: Target, duration: number) =>
      autocannon({
        url: target.base,
        connections,
        duration,
        headers: { token, 'content-type': 'application/json' },
        requests: autocannonRequests(request),
      });
    for (const target of targets) await load(target, 1);
    const totals = new Map<string, { requests: number; ms: number; cpuMs: number; failures: number }>();
    for (let round = 0; round < rounds; round += 1) {
      for (const target of round % 2 === 1 ? [...targets].reverse() : targets) {
        const cpuBefore = cpuTimeMs(target.child.pid);
        const started = performance.now();
        const result = await load(target, seconds);
        const total = totals.get(target.name) ?? { requests: 0, ms: 0, cpuMs: 0, failures: 0 };
        total.requests += result.requests.total;
        total.ms += performance.now() - started;
        total.cpuMs += cpuTimeMs(target.child.pid) - cpuBefore;
        total.failures += result.non2xx + result.errors;
        totals.set(target.name, total);
      }
    }
    const rate = (name: string) => {
      const total = totals.get(name);
      return total ? (total.requests / total.ms) * 1000 : NaN;
    };
    console.log('\n| target | req/s | CPU ms/req | /baseline | peak RSS MB | non-2xx or errors |\n|---|---:|---:|---:|---:|---:|');
    for (const [name, total] of totals) {
      const pid = targets.find((target) => target.name === name)?.child.pid ?? 0;
      console.log(
        `| ${name} | ${rate(name).toFixed(1)} | ${(total.cpuMs / total.requests).toFixed(2)} | ${(rate(name) / rate('baseline')).toFixed(2)} | ${rssMbOf(pid, true).toFixed(0)} | ${total.failures} |`,
      );
    }
  } finally {
    for (const target of targets) target.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await client.db().dropDatabase();
    await client.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
