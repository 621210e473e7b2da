import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { OutboxClaim, OutboxMessage } from '../../src/models/outbox.model';
import { enqueueMail } from '../../src/services/outbox.service';
import { testMongoUri, uriWithDb, useTestDatabase } from '../helpers/db';
import { startServer, waitForLog, type ServerProcess } from '../helpers/server-process';
import { eventually, outboxSettled, SmtpCatcher } from '../helpers/smtp';

// The outbox worker as it really runs: inside service processes started like `npm start`.

const db = useTestDatabase();
const smtp = new SmtpCatcher();
const serviceUri = () => uriWithDb(testMongoUri(), db.dbName);

beforeAll(async () => {
  await smtp.start();
});
afterAll(async () => {
  await smtp.stop();
});

async function stop(server: ServerProcess) {
  server.child.kill('SIGTERM');
  return server.exited;
}

describe('outbox worker in the service process', () => {
  it('delivers every message exactly once with two service instances on one database', async () => {
    const count = 60;
    const emails = Array.from({ length: count }, (_, i) => `two.${i}@example.com`);
    const env = {
      MONGODB_URI: serviceUri(),
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(smtp.port),
      MAIL_FROM: 'CRM <crm@example.com>',
      OUTBOX_POLL_MS: '200',
      OUTBOX_BATCH_SIZE: '5',
    };
    const servers = await Promise.all([startServer(env), startServer(env)]);
    try {
      // Written once both workers run, so both find work (one started alone could send everything).
      await enqueueMail(emails.map((to) => ({ event: 'test.instances', to, subject: 'Two instances', text: 'text', html: '<p>html</p>' })));
      await outboxSettled(30_000);
    } finally {
      // SIGTERM lets each worker finish the attempts it holds before the process exits: once both have
      // exited, no further mail can arrive, and the counts below are final.
      const exits = await Promise.all(servers.map(stop));
      expect(exits.map((e) => e.code)).toEqual([0, 0]);
    }
    expect(await OutboxMessage.countDocuments({ event: 'test.instances', status: 'sent' })).toBe(count);
    const ids = smtp.mails.filter((m) => m.event === 'test.instances').map((m) => m.messageId);
    expect(ids).toHaveLength(count);
    expect(new Set(ids).size).toBe(count);
    expect(await OutboxClaim.countDocuments({})).toBe(count);
    const workers = await OutboxClaim.distinct('worker');
    expect(workers).toHaveLength(2);
    for (const server of servers) expect(server.output()).not.toContain('SMTP_HOST is not set');
  }, 90_000);

  it('with no SMTP_HOST, warns at start and writes each message to the log', async () => {
    const server = await startServer({ MONGODB_URI: serviceUri(), OUTBOX_POLL_MS: '200' });
    try {
      await waitForLog(server, (line) => line.level === 40 && typeof line.msg === 'string' && line.msg.startsWith('SMTP_HOST is not set'));
      const res = await fetch(`http://127.0.0.1:${server.port}/customer/signup`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'Logged', email: 'logged@example.com', password: 'logged password 1' }),
      });
      expect(res.status).toBe(201);
      const logged = await waitForLog(server, (line) => line.to === 'logged@example.com');
      expect(logged).toMatchObject({
        event: 'customer.welcome',
        subject: 'Welcome to the CRM',
        text: expect.stringContaining('Welcome, Logged!'),
      });
      expect(server.output()).not.toContain('logged password 1');
      await eventually(async () => (await OutboxMessage.exists({ to: 'logged@example.com', status: 'logged' })) ?? undefined);
    } finally {
      expect((await stop(server)).code).toBe(0);
    }
    expect(smtp.mails.filter((m) => m.to.includes('logged@example.com'))).toEqual([]);
  }, 60_000);
});
