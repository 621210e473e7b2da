// npm run bench:profile — where the service's CPU goes on the hot paths. For each of GET, POST and PATCH
// /customers it starts the built service under `node --cpu-prof` (as bench:api runs it: production, info logs,
// rate limiter in the path), loads that one path with autocannon, stops the service and summarises the
// profile over the load window only (start-up excluded): CPU ms per request, the top frames by self time and
// the share of each package.
//
//   MONGODB_URI=mongodb://127.0.0.1:27017/ npm run bench:profile
//   BENCH_CUSTOMERS=10000        customers seeded
//   BENCH_SECONDS=10             load per path, at BENCH_CONNECTIONS (20), after a 1 s warm-up
//   BENCH_ONLY=GET,PATCH         only these paths
//   BENCH_TOP=15                 frames listed per path
//   BENCH_PROFILE_DIR=dir        where the .cpuprofile files are kept (default: a temporary directory)
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import autocannon from 'autocannon';
import { MongoClient, ObjectId } from 'mongodb';
import { createKeyring } from '../src/utils/crypto';
import { describeEngine } from './lib/engine';
import { seedCustomers, seedInteractions, type Seeded } from './lib/seed';
import { autocannonRequests, customerPatchBody, customerPath, interactionPath, newCustomerBodies } from './lib/customer-requests';
import { benchEnv, cpuTimeMs, root, signInAs, startService } from './lib/service';

const mongoUri = process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27017/';
const customers = Number(process.env.BENCH_CUSTOMERS ?? 10_000);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 20);
const top = Number(process.env.BENCH_TOP ?? 15);
const only = process.env.BENCH_ONLY?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const profileDir = process.env.BENCH_PROFILE_DIR ?? mkdtempSync(path.join(os.tmpdir(), 'crm-profile-'));
const runId = Date.now().toString(36);
const dbUri = new URL(mongoUri);
dbUri.pathname = `/crm_profile_${runId}`;
const admin = { email: 'bench.admin@example.com', password: 'bench password 123' };

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** node_modules/<package> (scoped too), node:<module>, the service's own dist/<folder>, or a V8 bucket. */
function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules?.[1]) return modules[1];
  if (url.startsWith('node:')) return url.split('/')[0] ?? url;
  const own = /\/dist\/([^/]+)\//.exec(url);
  if (own?.[1]) return `service ${own[1]}/`;
  return url.includes('/dist/') ? 'service' : path.basename(url);
}

interface Summary {
  cpuMs: number;
  frames: [string, number][];
  packages: [string, number][];
}

/** Self time per frame and per package, over the samples taken between `from` and `to` (µs, monotonic). */
function summarise(profile: CpuProfile, from: number, to: number): Summary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const frames = new Map<string, number>();
  const packages = new Map<string, number>();
  let at = profile.startTime;
  let busy = 0;
  for (let i = 0; i < profile.samples.length; i += 1) {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    const node = byId.get(profile.samples[i] ?? -1);
    if (!node || at < from || at > to) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    busy += delta;
    const where = url ? `${url.replace(/^.*node_modules\//, '').replace(`file://${root}/`, '')}:${lineNumber + 1}` : '';
    const frame = `${functionName || '(anonymous)'} ${where}`.trim();
    frames.set(frame, (frames.get(frame) ?? 0) + delta);
    const pkg = packageOf(url, functionName);
    packages.set(pkg, (packages.get(pkg) ?? 0) + delta);
  }
  const sorted = (map: Map<string, number>) => [...map.entries()].sort((a, b) => b[1] - a[1]);
  return { cpuMs: busy / 1000, frames: sorted(frames), packages: sorted(packages) };
}

interface Target {
  name: string;
  method: 'GET' | 'POST' | 'PATCH';
  path: () => string;
  body?: () => string;
}

function targets(seeded: Seeded): Target[] {
  return [
    { name: 'GET /customers/:id', method: 'GET', path: customerPath(seeded.sampleIds) },
    { name: 'POST /customers', method: 'POST', path: () => '/customers', body: newCustomerBodies(`p.${runId}`) },
    { name: 'PATCH /customers/:id', method: 'PATCH', path: customerPath(seeded.sampleIds), body: customerPatchBody },
    { name: 'GET /interactions/:id', method: 'GET', path: interactionPath(seeded.interactionIds) },
  ];
}

async function load(base: string, token: string, target: Target, duration: number) {
  return autocannon({
    url: base,
    connections,
    duration,
    headers: { token, 'content-type': 'application/json' },
    requests: autocannonRequests(target),
  });
}

const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n);
const ms = (micros: number) => (micros / 1000).toFixed(0);

/**
 * The commands the server has answered so far (serverStatus `network.numRequests`; NaN where the engine does not
 * count them): over a load window, the service's round trips per request, its background work's included.
 */
async function commandsServed(client: MongoClient): Promise<number> {
  const status = await client.db('admin').command({ serverStatus: 1 });
  const served: unknown = (status.network as { numRequests?: unknown } | undefined)?.numRequests;
  return typeof served === 'number' ? served : Number.NaN;
}

async function profileOne(env: Record<string, string>, target: Target, seeded: Seeded | undefined, client: MongoClient) {
  const dir = path.join(profileDir, target.name.replace(/[^\w]+/g, '-'));
  const service = await startService(env, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
  try {
    const { token, sub } = await signInAs(service.base, admin);
    const data = seeded ?? { count: 0, ownerId: new ObjectId(sub), sampleIds: [], idAt: new Map(), interactionIds: [] };
    if (!seeded) {
      await seedCustomers(client, data, customers);
      await seedInteractions(client, data, createKeyring({ id: 'k1', key: env.DATA_ENCRYPTION_KEY ?? '' }));
    }
    const chosen = targets(data).find((t) => t.name === target.name) ?? target;
    await load(service.base, token, chosen, 1);
    const from = monotonicMicros();
    const cpuBefore = cpuTimeMs(service.child.pid);
    const commandsBefore = await commandsServed(client);
    const result = await load(service.base, token, chosen, seconds);
    const commands = (await commandsServed(client)) - commandsBefore - 1;
    const cpuMs = cpuTimeMs(service.child.pid) - cpuBefore;
    const to = monotonicMicros();
    return { data, from, to, result, cpuMs, commands, dir, exit: await service.stop() };
  } catch (error) {
    await service.stop();
    throw error;
  }
}

async function main() {
  console.log(`engine: ${await describeEngine(mongoUri)}`);
  console.log(`bench:profile — ${customers} customers; ${seconds} s per path at ${connections} connections; profiles in ${profileDir}`);
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  const client = new MongoClient(dbUri.toString());
  await client.connect();
  const env = {
    ...benchEnv(dbUri.toString(), admin),
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    RATE_LIMIT_ENABLED: 'true',
    RATE_LIMIT_MAX: '100000000',
  };
  let seeded: Seeded | undefined;
  const lines: string[] = [];
  try {
    const placeholder: Seeded = { count: 0, ownerId: new ObjectId(), sampleIds: [], idAt: new Map(), interactionIds: [] };
    for (const target of targets(placeholder).filter((t) => !only || only.some((word) => t.name.includes(word)))) {
      const run = await profileOne(env, target, seeded, client);
      seeded = run.data;
      const file = readdirSync(run.dir).find((name) => name.endsWith('.cpuprofile'));
      if (!file) throw new Error(`no profile written in ${run.dir} (service exit code ${run.exit})`);
      const profile = JSON.parse(readFileSync(path.join(run.dir, file), 'utf8')) as CpuProfile;
      const summary = summarise(profile, run.from, run.to);
      const requests = run.result.requests.total;
      const wall = (run.to - run.from) / 1e6;
      lines.push(
        `\n## ${target.name}: ${(requests / wall).toFixed(1)} req/s; service CPU ${(run.cpuMs / requests).toFixed(2)} ms/request (all threads, ` +
          `from /proc); main thread busy ${(summary.cpuMs / requests).toFixed(2)} ms/request (${((summary.cpuMs / 1000 / wall) * 100).toFixed(0)}% ` +
          `of the time, including time preempted on a loaded machine); database commands ${(run.commands / requests).toFixed(2)}/request; ` +
          `non-2xx ${run.result.non2xx}; ${path.join(run.dir, file)}`,
        '',
        '| self ms | % of busy | frame |',
        '|---:|---:|---|',
        ...summary.frames
          .slice(0, top)
          .map(([frame, micros]) => `| ${ms(micros)} | ${((micros / 1000 / summary.cpuMs) * 100).toFixed(1)} | \`${frame}\` |`),
        '',
        '| package | % of busy |',
        '|---|---:|',
        ...summary.packages.slice(0, 12).map(([pkg, micros]) => `| ${pkg} | ${((micros / 1000 / summary.cpuMs) * 100).toFixed(1)} |`),
      );
      console.log(lines.slice(lines.findLastIndex((line) => line.startsWith('\n## '))).join('\n'));
    }
  } finally {
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
