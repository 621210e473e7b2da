// npm run bench:outbox — how many e-mails per second the outbox worker delivers to a local SMTP server,
// with one service instance and with two sharing the database. Prints a table.
//
//   MONGODB_URI=mongodb://127.0.0.1:27017/ npm run bench:outbox
//   OUTBOX_BENCH_MESSAGES=2000 (default)
//
// Needs `npm run build` first (the services run from dist/ as in production). Each run uses a fresh
// database; the messages are inserted after the services are up, and the clock runs from the first insert
// to the last message accepted by the SMTP server.
import mongoose from 'mongoose';
import { SMTPServer } from 'smtp-server';
import { connectDatabase, ensureIndexes } from '../src/database/connect';
import { OutboxClaim, OutboxMessage } from '../src/models/outbox.model';
import { benchEnv, startService, type RunningService } from './lib/service';
import { describeEngine } from './lib/engine';

const messages = Number(process.env.OUTBOX_BENCH_MESSAGES ?? 2000);
const mongoUri = process.env.MONGODB_URI;
if (!mongoUri) throw new Error('MONGODB_URI is required (the server the benchmark databases are created on)');

interface Result {
  instances: number;
  seconds: number;
  perSecond: number;
  duplicates: number;
  shares: string;
}

/** A local SMTP server that counts accepted messages by Message-ID. */
async function startSmtp() {
  const seen = new Map<string, number>();
  let onMessage = () => undefined as void;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    closeTimeout: 100,
    onData(stream, _session, callback) {
      let head = '';
      stream.on('data', (chunk: Buffer) => {
        if (head.length < 4096) head += chunk.toString('utf8');
      });
      stream.on('end', () => {
        const id = /^Message-ID:\s*(\S+)/im.exec(head)?.[1] ?? 'none';
        seen.set(id, (seen.get(id) ?? 0) + 1);
        onMessage();
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    seen,
    total: () => [...seen.values()].reduce((a, b) => a + b, 0),
    whenTotal(n: number): Promise<void> {
      return new Promise((resolve) => {
        onMessage = () => {
          if ([...seen.values()].reduce((a, b) => a + b, 0) >= n) resolve();
        };
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function run(instances: number): Promise<Result> {
  const dbUri = new URL(mongoUri ?? '');
  dbUri.pathname = `/crm_bench_outbox_${instances}_${Date.now()}`;
  await connectDatabase(dbUri.toString(), { timeoutMs: 5000 });
  await ensureIndexes();
  const smtp = await startSmtp();
  const env = {
    ...benchEnv(dbUri.toString()),
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: String(smtp.port),
    MAIL_FROM: 'CRM bench <bench@example.com>',
  };
  const services: RunningService[] = [];
  for (let i = 0; i < instances; i += 1) services.push(await startService(env));
  try {
    const done = smtp.whenTotal(messages);
    const started = performance.now();
    for (let from = 0; from < messages; from += 500) {
      const now = new Date();
      const batch = Array.from({ length: Math.min(500, messages - from) }, (_, i) => ({
        event: 'bench',
        to: `bench.${from + i}@example.com`,
        subject: `Bench message ${from + i}`,
        text: 'Hello,\n\nA benchmark message.\n',
        html: '<p>Hello,</p><p>A benchmark message.</p>',
        status: 'pending',
        attempts: 0,
        max_attempts: 3,
        next_attempt_at: now,
      }));
      await OutboxMessage.insertMany(batch);
    }
    await done;
    const seconds = (performance.now() - started) / 1000;
    // Let any late duplicate arrive before counting.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const duplicates = [...smtp.seen.values()].filter((n) => n > 1).length;
    const byWorker = new Map<string, number>();
    for (const claim of await OutboxClaim.find({}, { worker: 1 }).lean()) byWorker.set(claim.worker, (byWorker.get(claim.worker) ?? 0) + 1);
    return {
      instances,
      seconds,
      perSecond: messages / seconds,
      duplicates,
      shares: [...byWorker.values()].sort((a, b) => b - a).join(' / '),
    };
  } finally {
    for (const service of services) await service.stop();
    await smtp.close();
    await mongoose.connection.dropDatabase().catch(() => undefined);
    await mongoose.disconnect();
  }
}

async function main() {
  console.log(`engine: ${await describeEngine(mongoUri as string)}`);
  const results: Result[] = [];
  for (const instances of [1, 2]) results.push(await run(instances));
  const rows = [
    ['instances', 'messages', 'seconds', 'msg/s', 'duplicates', 'claims per instance'],
    ...results.map((r) => [
      String(r.instances),
      String(messages),
      r.seconds.toFixed(2),
      r.perSecond.toFixed(1),
      String(r.duplicates),
      r.shares,
    ]),
  ];
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((row) => row[col]?.length ?? 0))) ?? [];
  const line = (row: string[]) => `| ${row.map((cell, col) => cell.padEnd(widths[col] ?? 0)).join(' | ')} |`;
  process.stdout.write(
    `${line(rows[0] ?? [])}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n${rows.slice(1).map(line).join('\n')}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
