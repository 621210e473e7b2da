// npm run bench:soak — a mixed workload at a fixed number of concurrent connections against one service
// instance, printing requests, statuses, latency percentiles and the service's memory over the run.
//
//   MONGODB_URI=mongodb://127.0.0.1:27017/ npm run bench:soak
//   SOAK_SECONDS=60 SOAK_CONNECTIONS=100 (defaults)
//
// Needs `npm run build` first (the service runs from dist/ as in production).
import { randomBytes } from 'node:crypto';
import { httpClient, percentile, type Reply } from './lib/http';
import { benchEnv, startService } from './lib/service';
import { describeEngine } from './lib/engine';

const seconds = Number(process.env.SOAK_SECONDS ?? 60);
const connections = Number(process.env.SOAK_CONNECTIONS ?? 100);
const mongoUri = process.env.MONGODB_URI;
if (!mongoUri) throw new Error('MONGODB_URI is required (the database the service under test uses)');

const dbUri = new URL(mongoUri);
dbUri.pathname = `/crm_soak_${Date.now()}`;
const adminEmail = 'soak.admin@example.com';
const password = 'soak password 123';
const ticketNext: Record<string, string> = { open: 'in_progress', in_progress: 'resolved', resolved: 'closed' };

interface Sample {
  at: number;
  op: string;
  status: number;
  ms: number;
}

async function main() {
  console.log(`engine: ${await describeEngine(dbUri.toString())}`);
  const service = await startService({
    ...benchEnv(dbUri.toString(), { email: adminEmail, password }),
    // Sign-ins are part of the mix; cost 10 keeps them realistic without one sign-in starving the others.
    BCRYPT_COST: '10',
  });
  const send = httpClient(service.base, connections);
  const expectOk = (reply: Reply, what: string) => {
    if (reply.status >= 300) throw new Error(`${what}: ${reply.status} ${JSON.stringify(reply.body)}`);
    return reply.body as Record<string, unknown>;
  };

  // Fixtures: managers to act as, customers and interactions to read and write.
  let adminToken = '';
  for (let i = 0; i < 50 && !adminToken; i += 1) {
    const signin = await send('POST', '/user/signin', { body: { email: adminEmail, password } });
    if (signin.status === 200) adminToken = String((signin.body as { token: string }).token);
    else await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const staff: { email: string; token: string }[] = [];
  for (let i = 0; i < 10; i += 1) {
    const email = `soak.manager.${i}@example.com`;
    expectOk(
      await send('POST', '/user/signup', { token: adminToken, body: { name: `Manager ${i}`, email, password, role: 'MANAGER' } }),
      'signup',
    );
    const signin = expectOk(await send('POST', '/user/signin', { body: { email, password } }), 'signin');
    staff.push({ email, token: String(signin.token) });
  }
  const customers: string[] = [];
  const interactions: string[] = [];
  await Promise.all(
    Array.from({ length: 20 }, async (_, worker) => {
      for (let i = 0; i < 25; i += 1) {
        const customer = expectOk(
          await send('POST', '/customers', {
            token: adminToken,
            body: { name: `Seed ${worker}-${i}`, email: `seed.${worker}.${i}@example.com`, company: 'Seed Co' },
          }),
          'seed customer',
        );
        customers.push(String(customer.id));
        const interaction = expectOk(
          await send('POST', '/interactions', {
            token: adminToken,
            body: { customer_id: customer.id, type: 'call', title: 'Seed call', notes: 'private notes' },
          }),
          'seed interaction',
        );
        interactions.push(String(interaction.id));
      }
    }),
  );

  const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)] as T;
  const openTickets: { id: string; status: string }[] = [];
  let created = 0;

  // One step of the mix; weights sum to 100.
  const steps: [number, string, (token: string) => Promise<Reply>][] = [
    [22, 'list customers', (token) => send('GET', '/customers?limit=20', { token })],
    [20, 'read customer', (token) => send('GET', `/customers/${pick(customers)}`, { token })],
    [
      8,
      'create customer',
      async (token) => {
        created += 1;
        const reply = await send('POST', '/customers', {
          token,
          body: { name: `Soak ${created}`, email: `soak.${created}.${randomBytes(3).toString('hex')}@example.com` },
        });
        if (reply.status === 201) customers.push(String((reply.body as { id: string }).id));
        return reply;
      },
    ],
    [
      10,
      'update customer',
      (token) => send('PATCH', `/customers/${pick(customers)}`, { token, body: { status: pick(['lead', 'prospect', 'active']) } }),
    ],
    [10, 'read interaction', (token) => send('GET', `/interactions/${pick(interactions)}`, { token })],
    [
      6,
      'create ticket',
      async (token) => {
        const reply = await send('POST', `/customers/ticket/${pick(interactions)}`, {
          token,
          body: { title: 'Soak ticket', priority: 'high' },
        });
        if (reply.status === 201) openTickets.push({ id: String((reply.body as { id: string }).id), status: 'open' });
        return reply;
      },
    ],
    [
      10,
      'move ticket',
      async (token) => {
        const ticket = openTickets.shift();
        if (!ticket) return send('GET', '/customers/tickets?limit=20', { token });
        const next = ticketNext[ticket.status] ?? 'closed';
        const reply = await send('PATCH', `/customers/ticket/${ticket.id}`, { token, body: { status: next } });
        if (reply.status === 200 && next !== 'closed') openTickets.push({ id: ticket.id, status: next });
        return reply;
      },
    ],
    [6, 'list tickets', (token) => send('GET', '/customers/tickets?limit=20', { token })],
    [2, 'sign in', async () => send('POST', '/user/signin', { body: { email: pick(staff).email, password } })],
    [2, 'me', (token) => send('GET', '/me', { token })],
    [4, 'notifications', (token) => send('GET', '/notifications?limit=20', { token })],
  ];
  const totalWeight = steps.reduce((sum, [weight]) => sum + weight, 0);
  const chooseStep = () => {
    let roll = Math.random() * totalWeight;
    for (const step of steps) {
      roll -= step[0];
      if (roll < 0) return step;
    }
    return steps[0]!;
  };

  const samples: Sample[] = [];
  const rss: { at: number; mb: number }[] = [];
  const started = Date.now();
  const deadline = started + seconds * 1000;
  const sampler = setInterval(() => rss.push({ at: Date.now() - started, mb: service.rssMb() }), 1000);
  rss.push({ at: 0, mb: service.rssMb() });

  await Promise.all(
    Array.from({ length: connections }, async (_, vu) => {
      const token = staff[vu % staff.length]!.token;
      while (Date.now() < deadline) {
        const [, op, run] = chooseStep();
        try {
          const reply = await run(token);
          samples.push({ at: Date.now() - started, op, status: reply.status, ms: reply.ms });
        } catch {
          samples.push({ at: Date.now() - started, op, status: 0, ms: 0 });
        }
      }
    }),
  );
  clearInterval(sampler);
  rss.push({ at: Date.now() - started, mb: service.rssMb() });
  const exitCode = await service.stop();

  const elapsed = (Date.now() - started) / 1000;
  const byStatus = new Map<number, number>();
  for (const s of samples) byStatus.set(s.status, (byStatus.get(s.status) ?? 0) + 1);
  const latencies = samples.map((s) => s.ms).sort((a, b) => a - b);
  const window = (from: number, to: number) => {
    const inWindow = rss.filter((r) => r.at >= from && r.at <= to).map((r) => r.mb);
    return inWindow.reduce((a, b) => a + b, 0) / Math.max(1, inWindow.length);
  };
  const firstTen = window(0, 10_000);
  const lastTen = window(elapsed * 1000 - 10_000, elapsed * 1000);

  const rows: [string, string][] = [
    ['duration', `${elapsed.toFixed(1)} s at ${connections} connections`],
    ['requests', `${samples.length} (${(samples.length / elapsed).toFixed(0)} req/s)`],
    [
      'statuses',
      [...byStatus.entries()]
        .sort(([a], [b]) => a - b)
        .map(([status, count]) => `${status}: ${count}`)
        .join(', '),
    ],
    ['responses >= 500 (or no response)', String(samples.filter((s) => s.status >= 500 || s.status === 0).length)],
    ['latency p50 / p99', `${percentile(latencies, 50).toFixed(1)} ms / ${percentile(latencies, 99).toFixed(1)} ms`],
    ['service RSS start / end', `${rss[0]!.mb.toFixed(0)} MB / ${rss.at(-1)!.mb.toFixed(0)} MB`],
    [
      'RSS mean first 10 s / last 10 s',
      `${firstTen.toFixed(0)} MB / ${lastTen.toFixed(0)} MB (${(((lastTen - firstTen) / firstTen) * 100).toFixed(1)}%)`,
    ],
    ['service exit code after SIGTERM', String(exitCode)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  console.log(`\nsoak: mixed workload against one service instance (service log: ${service.logFile})`);
  for (const [key, value] of rows) console.log(`  ${key.padEnd(width)}  ${value}`);
  console.log('\n  per operation: count, p50, p99, non-2xx');
  for (const op of [...new Set(samples.map((s) => s.op))].sort()) {
    const ofOp = samples.filter((s) => s.op === op);
    const sorted = ofOp.map((s) => s.ms).sort((a, b) => a - b);
    const failures = ofOp.filter((s) => s.status >= 300 || s.status === 0).length;
    console.log(
      `  ${op.padEnd(18)} ${String(ofOp.length).padStart(7)} ${percentile(sorted, 50).toFixed(1).padStart(8)} ms ${percentile(sorted, 99).toFixed(1).padStart(8)} ms ${String(failures).padStart(6)}`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
