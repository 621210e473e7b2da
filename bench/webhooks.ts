// npm run bench:webhooks — signed webhook deliveries through the outbox with two service instances sharing
// one database: N events (customer.created, written through the API on both instances) to a local receiver.
// Prints deliveries/s, event→delivery latency, duplicates and lost events.
//
//   MONGODB_URI=mongodb://127.0.0.1:27017/ npm run bench:webhooks
//   WEBHOOK_BENCH_EVENTS=10000 (default) WEBHOOK_BENCH_CONNECTIONS=20 (default)
//
// The script builds the service (dist/, as in production), uses a fresh database and drops it at the end.
// Latency runs from the event's `created_at` (set in the write path, inside the entity's transaction) to the
// moment the receiver has read the whole request; the receiver runs in this process on the same clock. Every
// 100th delivery's signature is verified with the `standardwebhooks` package.
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import mongoose from 'mongoose';
import { Webhook } from 'standardwebhooks';
import { connectDatabase } from '../src/database/connect';
import { describeEngine } from './lib/engine';
import { httpClient, percentile } from './lib/http';
import { benchEnv, root, startService, type RunningService } from './lib/service';

const events = Number(process.env.WEBHOOK_BENCH_EVENTS ?? 10_000);
const connections = Number(process.env.WEBHOOK_BENCH_CONNECTIONS ?? 20);
const mongoUri = process.env.MONGODB_URI;
if (!mongoUri) throw new Error('MONGODB_URI is required (the server the benchmark database is created on)');

interface Receiver {
  port: number;
  /** webhook-id → how many times it arrived. */
  seen: Map<string, number>;
  /** customer id → event→delivery latency of its first arrival, ms. */
  latency: Map<string, number>;
  lastArrival: () => number;
  badSignatures: () => number;
  setSecret: (secret: string) => void;
  close: () => Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const seen = new Map<string, number>();
  const latency = new Map<string, number>();
  let last = 0;
  let bad = 0;
  let verifier: Webhook | undefined;
  let count = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const arrived = Date.now();
      const body = Buffer.concat(chunks).toString('utf8');
      const id = String(req.headers['webhook-id']);
      seen.set(id, (seen.get(id) ?? 0) + 1);
      const event = JSON.parse(body) as { created_at: string; data: { object: { id: string } } };
      if (!latency.has(event.data.object.id)) latency.set(event.data.object.id, arrived - Date.parse(event.created_at));
      last = arrived;
      count += 1;
      if (verifier && count % 100 === 0) {
        try {
          verifier.verify(body, {
            'webhook-id': id,
            'webhook-timestamp': String(req.headers['webhook-timestamp']),
            'webhook-signature': String(req.headers['webhook-signature']),
          });
        } catch {
          bad += 1;
        }
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    latency,
    lastArrival: () => last,
    badSignatures: () => bad,
    setSecret: (secret) => {
      verifier = new Webhook(secret);
    },
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

/** Writes `events` customers through the two instances (alternating), `connections` at a time. */
async function writeEvents(bases: string[], tokens: string[]): Promise<{ ids: string[]; failed: number; seconds: number }> {
  const clients = bases.map((base) => httpClient(base, connections));
  const ids: string[] = [];
  let next = 0;
  let failed = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      for (let i = next++; i < events; i = next++) {
        const send = clients[i % 2];
        if (!send) continue;
        // A connection error (the machine is shared) counts as a failed write; its event, if written, is not expected.
        const res = await send('POST', '/customers', {
          token: tokens[i % 2],
          body: { name: `Hook ${i}`, email: `hook${i}@bench.test` },
        }).catch(() => undefined);
        if (res?.status === 201) ids.push(String((res.body as { id: string }).id));
        else failed += 1;
      }
    }),
  );
  return { ids, failed, seconds: (performance.now() - started) / 1000 };
}

async function signin(base: string, email: string, password: string): Promise<string> {
  const res = await fetch(`${base}/user/signin`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  return String(((await res.json()) as { token: string }).token);
}

async function main() {
  console.log(`engine: ${await describeEngine(mongoUri as string)}`);
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  const dbUri = new URL(mongoUri ?? '');
  dbUri.pathname = `/crm_bench_webhooks_${Date.now()}`;
  await connectDatabase(dbUri.toString(), { timeoutMs: 5000 });
  const receiver = await startReceiver();
  const admin = { email: 'bench.admin@example.com', password: 'bench admin password' };
  const env = { ...benchEnv(dbUri.toString(), admin), WEBHOOK_ALLOW_PRIVATE: 'true' };
  const services: RunningService[] = [];
  try {
    for (let i = 0; i < 2; i += 1) services.push(await startService(env));
    const bases = services.map((s) => s.base);
    const tokens = await Promise.all(bases.map((base) => signin(base, admin.email, admin.password)));
    const created = await fetch(`${bases[0]}/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', token: tokens[0] ?? '' },
      body: JSON.stringify({ url: `http://127.0.0.1:${receiver.port}/hooks`, events: ['customer.created'] }),
    });
    const endpoint = (await created.json()) as { secret: string };
    receiver.setSecret(endpoint.secret);
    // The second instance reads the new endpoint on its first event (its subscriber cache is still empty).
    const firstEvent = Date.now();
    const written = await writeEvents(bases, tokens);
    const expected = new Set(written.ids);
    await waitUntil(() => [...expected].every((id) => receiver.latency.has(id)), 120_000);
    const deliverySeconds = (receiver.lastArrival() - firstEvent) / 1000;
    // Anything delivered twice would arrive within a lease (OUTBOX_LEASE_MS, 60 s by default, is far longer than
    // an attempt here): wait a few seconds more and count.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const latencies = [...receiver.latency.values()].sort((a, b) => a - b);
    const lost = [...expected].filter((id) => !receiver.latency.has(id)).length;
    const duplicates = [...receiver.seen.values()].filter((n) => n > 1).length;
    const rows = [
      [
        'events',
        'write req/s',
        'deliveries/s',
        'p50 ms',
        'p95 ms',
        'p99 ms',
        'max ms',
        'duplicates',
        'lost',
        'bad signatures',
        'failed writes',
      ],
      [
        String(written.ids.length),
        (written.ids.length / written.seconds).toFixed(1),
        (receiver.latency.size / deliverySeconds).toFixed(1),
        String(percentile(latencies, 50)),
        String(percentile(latencies, 95)),
        String(percentile(latencies, 99)),
        String(latencies.at(-1) ?? 0),
        String(duplicates),
        String(lost),
        String(receiver.badSignatures()),
        String(written.failed),
      ],
    ];
    const widths = rows[0]?.map((_, col) => Math.max(...rows.map((row) => row[col]?.length ?? 0))) ?? [];
    const line = (row: string[]) => `| ${row.map((cell, col) => cell.padEnd(widths[col] ?? 0)).join(' | ')} |`;
    process.stdout.write(`${line(rows[0] ?? [])}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n${line(rows[1] ?? [])}\n`);
    if (lost > 0 || duplicates > 0) process.exitCode = 1;
  } finally {
    for (const service of services) await service.stop();
    await receiver.close();
    await mongoose.connection.dropDatabase().catch(() => undefined);
    await mongoose.disconnect();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
