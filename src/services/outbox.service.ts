import { EventEmitter } from 'node:events';
import mongoose from 'mongoose';
import { config } from '../config/env';
import { OutboxMessage, outboxView, type OutboxRecord, type OutboxView } from '../models/outbox.model';
import type { ListOutboxQuery } from '../schemas/outbox.schema';
import { AppError } from '../utils/app-error';
import { paginate } from '../database/paginate';
import type { Page } from '../utils/paging';

// Writing to the outbox is all a request does for e-mail: one insert, no SMTP. The worker in the same
// process is woken at once (others find the message on their next poll).

export const outboxSignals = new EventEmitter();

/** One e-mail to one address, already rendered (services/notifications words them). */
export interface OutgoingMail {
  event: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

export async function enqueueMail(messages: OutgoingMail[]): Promise<void> {
  if (messages.length === 0) return;
  const now = new Date();
  // insertMany stops at the first error on FerretDB whatever `ordered` says; these inserts cannot collide.
  await OutboxMessage.insertMany(
    messages.map((m) => ({ ...m, status: 'pending', attempts: 0, max_attempts: config.outbox.maxAttempts, next_attempt_at: now })),
  );
  outboxSignals.emit('enqueued');
}

export async function listOutbox(query: ListOutboxQuery): Promise<Page<OutboxView>> {
  // E-mail only: webhook deliveries are listed per endpoint (GET /webhooks/:id/deliveries).
  const notWebhook: { $ne: 'webhook' } = { $ne: 'webhook' };
  const filter = { channel: mongoose.trusted(notWebhook), ...(query.status ? { status: query.status } : {}) };
  const page = await paginate(OutboxMessage, filter, query);
  return { ...page, items: page.items.map(outboxView) };
}

/**
 * Sends a failed message again with a fresh set of attempts. Attempt numbers keep counting up, so the
 * claims of earlier attempts cannot collide with the new ones.
 */
export async function retryMessage(id: string) {
  const message = await OutboxMessage.findById(id).lean<OutboxRecord>();
  if (!message) throw AppError.notFound('Outbox message');
  if (message.status !== 'failed') {
    throw AppError.conflict(
      `Only a failed message can be retried; this one is ${message.status}`,
      [{ location: 'params', field: 'status', message: message.status }],
      'OUTBOX_NOT_FAILED',
    );
  }
  const result = await OutboxMessage.updateOne(
    { _id: message._id, status: 'failed', attempts: message.attempts },
    {
      $set: {
        status: 'pending',
        next_attempt_at: new Date(),
        max_attempts: message.attempts + config.outbox.maxAttempts,
        last_error: null,
      },
    },
  );
  if (result.matchedCount === 0) throw AppError.conflict('The message changed meanwhile; read it again and retry');
  // Read back before waking the worker, so the answer shows the message as queued, not half-sent.
  const updated = await OutboxMessage.findById(message._id).lean<OutboxRecord>();
  if (!updated) throw AppError.notFound('Outbox message');
  outboxSignals.emit('enqueued');
  return outboxView(updated);
}
