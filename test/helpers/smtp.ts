import { SMTPServer, type SMTPServerAddress } from 'smtp-server';
import { OutboxMessage } from '../../src/models/outbox.model';

// A real SMTP server for the e-mail tests (never a mocked transport): it records every message it accepts,
// can be stopped and started again on the same port (an outage), and can refuse chosen recipients.

export interface CaughtMail {
  from: string;
  to: string[];
  messageId: string;
  event: string;
  subject: string;
  text: string;
  html: string;
  raw: string;
}

function unfoldHeaders(head: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

function decodeQuotedPrintable(text: string): string {
  const bytes = text.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/** RFC 2047 encoded words, as Nodemailer writes non-ASCII subjects. */
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?utf-8\?([QB])\?([^?]*)\?=/gi, (_m, kind: string, data: string) =>
      kind.toUpperCase() === 'B' ? Buffer.from(data, 'base64').toString('utf8') : decodeQuotedPrintable(data.replace(/_/g, ' ')),
    );
}

function decodeBody(body: string, encoding: string | undefined): string {
  if (encoding?.toLowerCase() === 'quoted-printable') return decodeQuotedPrintable(body);
  if (encoding?.toLowerCase() === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return body;
}

function splitMessage(raw: string): { headers: Record<string, string>; body: string } {
  const at = raw.search(/\r?\n\r?\n/);
  const head = at < 0 ? raw : raw.slice(0, at);
  const body = at < 0 ? '' : raw.slice(at).replace(/^\r?\n\r?\n/, '');
  return { headers: unfoldHeaders(head), body };
}

export function parseMail(raw: string, envelope: { from: string; to: string[] }): CaughtMail {
  const { headers, body } = splitMessage(raw);
  const parts: Record<string, string> = {};
  const boundary = /boundary="?([^";]+)"?/i.exec(headers['content-type'] ?? '')?.[1];
  const sections = boundary ? body.split(`--${boundary}`).slice(1, -1) : [raw];
  for (const section of sections) {
    const part = splitMessage(section.replace(/^\r?\n/, ''));
    const type = (part.headers['content-type'] ?? 'text/plain').split(';')[0]?.trim().toLowerCase() ?? '';
    parts[type] = decodeBody(part.body.replace(/\r?\n$/, ''), part.headers['content-transfer-encoding']).replace(/\r\n/g, '\n');
  }
  return {
    from: envelope.from,
    to: envelope.to,
    messageId: headers['message-id'] ?? '',
    event: headers['x-crm-event'] ?? '',
    subject: decodeWords(headers.subject ?? ''),
    text: parts['text/plain'] ?? '',
    html: parts['text/html'] ?? '',
    raw,
  };
}

export class SmtpCatcher {
  readonly mails: CaughtMail[] = [];
  /** Recipients refused with a permanent 550 while listed here. */
  readonly refuse = new Set<string>();
  port = 0;
  private server: SMTPServer | undefined;

  async start(port = this.port): Promise<void> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      // Nodemailer's pool keeps connections open; an outage must drop them at once.
      closeTimeout: 100,
      onRcptTo: (address: SMTPServerAddress, _session, callback) => {
        if (this.refuse.has(address.address.toLowerCase())) {
          callback(Object.assign(new Error('Mailbox unavailable'), { responseCode: 550 }));
          return;
        }
        callback();
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const envelope = {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
          };
          this.mails.push(parseMail(Buffer.concat(chunks).toString('utf8'), envelope));
          callback();
        });
      },
    });
    server.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const address = server.server.address();
    this.port = typeof address === 'object' && address ? address.port : port;
    this.server = server;
  }

  /** An outage: the listener closes and open connections are dropped. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  isRunning(): boolean {
    return this.server !== undefined;
  }

  to(address: string): CaughtMail[] {
    return this.mails.filter((m) => m.to.includes(address.toLowerCase()));
  }

  async waitFor(predicate: (mails: CaughtMail[]) => boolean, timeoutMs = 15_000): Promise<CaughtMail[]> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (predicate(this.mails)) return this.mails;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`expected mail not received within ${timeoutMs} ms; got ${JSON.stringify(this.mails.map((m) => [m.to, m.subject]))}`);
  }
}

/** Polls `check` until it holds (for database state the worker changes). */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Resolves once no outbox message is pending: each one written so far was delivered or failed for good. A
 * message is marked sent only after the SMTP server accepted it, so the catcher already holds it. (An attempt
 * still in progress ends only when its worker stops: stop the workers too before counting exactly.)
 */
export async function outboxSettled(timeoutMs = 15_000): Promise<void> {
  await eventually(async () => (await OutboxMessage.countDocuments({ status: 'pending' })) === 0, timeoutMs);
}
