import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import mongoose from 'mongoose';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from 'pino';
import { config } from '../config/env';
import { engineCapabilities } from '../database/capabilities';
import { isDuplicateKey } from '../database/errors';
import { OutboxClaim, OutboxMessage, type OutboxRecord } from '../models/outbox.model';
import { outboxSignals } from './outbox.service';
import { deliverWebhook, webhookPolicyFromConfig, type WebhookPolicy } from './integrations';

// The outbox worker (SPEC §5): runs inside every service instance and delivers due messages.
//
// Claiming: attempt N of a message is owned by whoever inserts the claim "<id>:<N>" first — a unique _id,
// the one operation that is atomic between processes on MongoDB and FerretDB alike (FerretDB's
// findOneAndUpdate is not). The owner then moves the message's next_attempt_at to the end of its lease,
// sends, and records the outcome. A worker that dies mid-attempt leaves the message pending with an
// expired lease; any worker then claims attempt N+1. SMTP timeouts are a third of the lease, so a live
// owner finishes before anyone else may start the next attempt: a message can only go out twice if an
// attempt outlives its lease (e.g. the database is unreachable when the owner records "sent").
// Message updates filter on _id alone: FerretDB serves that from its primary key, other conditions scan.
//
// Waking: a message written by this process wakes its worker at once (outboxSignals). Where the engine has
// change streams (a replica set), the worker also watches the collection, so a message written by any
// instance wakes it when its transaction commits; it then only sleeps until the next scheduled retry (at most
// OUTBOX_IDLE_POLL_MS). Elsewhere (FerretDB, a standalone mongod) it polls every OUTBOX_POLL_MS.
//
// Channels: an e-mail goes out through SMTP here; a webhook delivery (channel `webhook`) is POSTed, and its
// outcome recorded, by services/integrations (webhook-delivery.ts), under the same claim and lease.

export interface SmtpSettings {
  host: string;
  port: number;
  secure: boolean;
  auth?: { user: string; pass: string } | undefined;
}

export interface OutboxWorkerOptions {
  logger: Logger;
  /** Default: config.mail.smtp. `null`: no SMTP, each message is written to the log instead. */
  smtp?: SmtpSettings | null;
  from?: string;
  pollMs?: number;
  /** The longest idle sleep while a change stream wakes the worker. */
  idlePollMs?: number;
  batchSize?: number;
  leaseMs?: number;
  backoffMs?: number;
  workerId?: string;
  /** Webhook deliveries: timeout, backoff, failures before an endpoint is disabled (default: config.webhooks). */
  webhooks?: Partial<WebhookPolicy>;
}

const CLAIM_RETENTION_MS = 30 * 86_400_000;
/** How long one getMore of the change stream waits for a change on the server. */
const STREAM_AWAIT_MS = 1_000;
const MAX_BACKOFF_MS = 6 * 3_600_000;

interface ClaimedAttempt {
  message: OutboxRecord;
  attempt: number;
  leaseUntil: Date;
}

function shuffle<T extends object>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    const [a, b] = [items[i], items[j]];
    // Both indices are in range and the items are objects: the check only tells the type checker so.
    if (a && b) [items[i], items[j]] = [b, a];
  }
  return items;
}

function describeError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.slice(0, 500);
}

export class OutboxWorker {
  readonly id: string;
  private readonly log: Logger;
  private readonly transport: Transporter | undefined;
  private readonly from: string;
  private readonly pollMs: number;
  private readonly idlePollMs: number;
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private readonly backoffMs: number;
  private readonly webhookPolicy: WebhookPolicy;
  private running = false;
  private loopDone: Promise<void> = Promise.resolve();
  private wake: (() => void) | undefined;
  /** Set when woken while busy: the next sleep returns at once, so no message waits for a poll. */
  private wakeRequested = false;
  private readonly onEnqueued = () => {
    this.wakeRequested = true;
    this.wake?.();
  };
  private stream: mongoose.mongo.ChangeStream | undefined;
  /** A stream being started (stop() closes it rather than wait for its first answer). */
  private opening: mongoose.mongo.ChangeStream | undefined;
  /** Completed rounds (stream check and poll), for tests that must know the worker has looked once. */
  rounds = 0;

  constructor(options: OutboxWorkerOptions) {
    this.id = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.log = options.logger.child({ component: 'outbox', worker: this.id });
    this.from = options.from ?? config.mail.from;
    this.pollMs = options.pollMs ?? config.outbox.pollMs;
    this.idlePollMs = options.idlePollMs ?? config.outbox.idlePollMs;
    this.batchSize = options.batchSize ?? config.outbox.batchSize;
    this.leaseMs = options.leaseMs ?? config.outbox.leaseMs;
    this.backoffMs = options.backoffMs ?? config.outbox.backoffMs;
    const policy = { ...webhookPolicyFromConfig(), ...options.webhooks };
    // Like SMTP's: an attempt ends well within its lease, so no other worker can start the next one meanwhile.
    this.webhookPolicy = { ...policy, timeoutMs: Math.min(policy.timeoutMs, Math.floor(this.leaseMs / 3)) };
    const smtp = options.smtp === undefined ? config.mail.smtp : options.smtp;
    // No connection is opened here; the pool connects on the first message.
    const timeout = Math.max(1000, Math.floor(this.leaseMs / 3));
    this.transport = smtp
      ? nodemailer.createTransport({
          host: smtp.host,
          port: smtp.port,
          secure: smtp.secure,
          auth: smtp.auth,
          pool: true,
          maxConnections: 10,
          connectionTimeout: timeout,
          greetingTimeout: timeout,
          socketTimeout: timeout,
        })
      : undefined;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    if (!this.transport) this.log.warn('SMTP_HOST is not set: outbox e-mail is written to the log instead of being sent');
    outboxSignals.on('enqueued', this.onEnqueued);
    this.loopDone = this.loop();
  }

  /** Stops polling, lets the attempts in progress finish and record their outcome, closes SMTP. */
  async stop(): Promise<void> {
    this.running = false;
    outboxSignals.off('enqueued', this.onEnqueued);
    this.wake?.();
    await this.opening?.close().catch(() => undefined);
    await this.loopDone;
    await this.closeStream();
    this.transport?.close();
  }

  /** How the worker learns of new messages: `change-stream` (any instance's) or `poll`. */
  get wakeMode(): 'change-stream' | 'poll' {
    return this.stream ? 'change-stream' : 'poll';
  }

  /**
   * Opens the change stream where the engine has them. The first `tryNext` makes the server start it, so a
   * message written after that wakes the worker and one written before is found by the poll that follows.
   * The stream is read by `listen`, one change at a time (not the driver's event mode, whose own resume
   * loop can spin without pause once its client is closing); on an error the worker polls until the next
   * round reopens it.
   */
  private async openStream(): Promise<void> {
    if (this.stream || !engineCapabilities().changeStreams) return;
    const newOrRequeued = [
      { $match: { $or: [{ operationType: 'insert' }, { operationType: 'update', 'updateDescription.updatedFields.status': 'pending' }] } },
    ];
    const stream = OutboxMessage.collection.watch(newOrRequeued, { maxAwaitTimeMS: STREAM_AWAIT_MS });
    this.opening = stream;
    try {
      if (await stream.tryNext()) this.onEnqueued();
    } catch (error) {
      if (this.running) this.log.warn({ err: describeError(error) }, 'outbox change stream could not start; polling');
      await stream.close().catch(() => undefined);
      return;
    } finally {
      this.opening = undefined;
    }
    if (!this.running) {
      await stream.close().catch(() => undefined);
      return;
    }
    this.stream = stream;
    void this.listen(stream);
  }

  private async listen(stream: mongoose.mongo.ChangeStream): Promise<void> {
    try {
      while (this.stream === stream && (await stream.next())) this.onEnqueued();
    } catch (error) {
      if (this.stream === stream && this.running)
        this.log.warn({ err: describeError(error) }, 'outbox change stream failed; polling until it reopens');
    }
    if (this.stream === stream) this.stream = undefined;
    await stream.close().catch(() => undefined);
    this.onEnqueued();
  }

  private async closeStream(): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    await stream?.close().catch(() => undefined);
  }

  private async loop(): Promise<void> {
    while (this.running) {
      let found = 0;
      try {
        await this.openStream();
        found = await this.runOnce();
        this.rounds += 1;
      } catch (error) {
        // Database away: try again on the next poll; nothing is lost, messages stay pending.
        this.log.warn({ err: describeError(error) }, 'outbox poll failed');
      }
      if (this.running && found < this.batchSize) await this.sleep(await this.idleMs());
    }
  }

  /** With a change stream: until the next scheduled attempt (at most idlePollMs); without: pollMs. */
  private async idleMs(): Promise<number> {
    if (!this.stream) return this.pollMs;
    try {
      const next = await OutboxMessage.findOne({ status: 'pending' }, { next_attempt_at: 1 })
        .sort({ next_attempt_at: 1 })
        .lean<Pick<OutboxRecord, 'next_attempt_at'>>();
      if (!next) return this.idlePollMs;
      return Math.min(this.idlePollMs, Math.max(10, next.next_attempt_at.getTime() - Date.now()));
    } catch {
      return this.pollMs;
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.wakeRequested || !this.running) {
      this.wakeRequested = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeRequested = false;
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  /** One poll: claim what is due (up to a batch), deliver it. Answers how many due messages it saw. */
  async runOnce(): Promise<number> {
    const due = await OutboxMessage.find({ status: 'pending', next_attempt_at: mongoose.trusted({ $lte: new Date() }) })
      .sort({ next_attempt_at: 1 })
      .limit(this.batchSize * 2)
      .lean<OutboxRecord[]>();
    // Shuffled, so several workers polling at once mostly try different messages first.
    const picked = shuffle(due).slice(0, this.batchSize);
    await Promise.all(
      picked.map(async (message) => {
        const attempt = await this.claim(message);
        if (!attempt) return;
        if (message.channel === 'webhook') {
          await deliverWebhook(message, attempt.attempt, this.webhookPolicy, this.log);
          return;
        }
        const outcome = await this.deliver(attempt);
        if (outcome) {
          await OutboxMessage.updateOne({ _id: message._id }, { $set: { status: outcome, sent_at: new Date(), last_error: null } });
        }
      }),
    );
    return picked.length;
  }

  /**
   * Claims the next attempt of a message: the claim insert decides the owner; the owner then moves the
   * message's next_attempt_at to the end of its lease. A worker polling in between still reads the old
   * attempt count, so its claim of the same attempt number loses.
   */
  private async claim(message: OutboxRecord): Promise<ClaimedAttempt | undefined> {
    const attempt = message.attempts + 1;
    const now = Date.now();
    const leaseUntil = new Date(now + this.leaseMs);
    try {
      await OutboxClaim.create({
        _id: `${message._id.toHexString()}:${attempt}`,
        message: message._id,
        attempt,
        worker: this.id,
        lease_until: leaseUntil,
        expires_at: new Date(now + CLAIM_RETENTION_MS),
      });
    } catch (error) {
      if (isDuplicateKey(error)) return undefined; // another worker owns this attempt
      throw error;
    }
    await OutboxMessage.updateOne({ _id: message._id }, { $set: { attempts: attempt, next_attempt_at: leaseUntil } });
    return { message, attempt, leaseUntil };
  }

  /**
   * Sends one claimed attempt: `sent` when the SMTP server accepted it, `logged` when there is no SMTP server
   * and the message went to the log; undefined after a failure (recorded here).
   */
  private async deliver({ message, attempt }: ClaimedAttempt): Promise<'sent' | 'logged' | undefined> {
    const id = message._id.toHexString();
    try {
      if (this.transport) {
        await this.transport.sendMail({
          from: this.from,
          to: message.to ?? '',
          subject: message.subject ?? '',
          text: message.text ?? '',
          html: message.html ?? '',
          // Stable across attempts, so a receiving system can recognise a repeat.
          messageId: `<outbox-${id}@crm.local>`,
          headers: { 'X-CRM-Event': message.event },
        });
      } else {
        this.log.info(
          { outbox_id: id, event: message.event, to: message.to, subject: message.subject, text: message.text },
          'e-mail (no SMTP_HOST set): logged, not sent',
        );
        return 'logged';
      }
      return 'sent';
    } catch (error) {
      await this.recordFailure(message, attempt, error);
      return undefined;
    }
  }

  private async recordFailure(message: OutboxRecord, attempt: number, error: unknown): Promise<void> {
    const id = message._id.toHexString();
    const lastError = describeError(error);
    if (attempt >= message.max_attempts) {
      await OutboxMessage.updateOne({ _id: message._id }, { $set: { status: 'failed', last_error: lastError } });
      this.log.error({ outbox_id: id, attempt, err: lastError }, 'e-mail failed for good after its last attempt');
      return;
    }
    const delay = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2 ** (attempt - 1));
    await OutboxMessage.updateOne({ _id: message._id }, { $set: { next_attempt_at: new Date(Date.now() + delay), last_error: lastError } });
    this.log.warn({ outbox_id: id, attempt, retry_in_ms: delay, err: lastError }, 'e-mail attempt failed; will retry');
  }
}

export function startOutboxWorker(options: OutboxWorkerOptions): OutboxWorker {
  const worker = new OutboxWorker(options);
  worker.start();
  return worker;
}
