import mongoose, { type InferSchemaType, type Types } from 'mongoose';
import { timestamps } from './timestamps';

// `logged`: delivered to the log because no SMTP server is configured (SMTP_HOST unset), never sent.
export const outboxStatuses = ['pending', 'sent', 'logged', 'failed'] as const;
export const outboxChannels = ['mail', 'webhook'] as const;

// The durable outbox (SPEC §5, §8): one document per e-mail and recipient, or per webhook event and
// endpoint, written by the request that caused it; the worker (services/outbox.worker.ts) delivers it.
// `attempts` counts attempts started; each one is claimed in `outbox_claims` first, so two workers can
// never own the same attempt.
function isMail(this: { channel?: string }): boolean {
  return this.channel !== 'webhook';
}
const outboxSchema = new mongoose.Schema(
  {
    // Messages written before webhooks existed have no channel: they are e-mail.
    channel: { type: String, enum: outboxChannels, default: 'mail' },
    event: { type: String, required: true },
    to: { type: String, required: isMail },
    subject: { type: String, required: isMail },
    text: { type: String, required: isMail },
    html: { type: String, required: isMail },
    // Webhook deliveries: the endpoint, the event's id (the `webhook-id` header, the same for every endpoint
    // and every attempt) and its JSON body as signed; the last attempt's HTTP status and duration.
    endpoint: { type: mongoose.Schema.Types.ObjectId, default: undefined },
    event_id: { type: String, default: undefined },
    payload: { type: String, default: undefined },
    last_status_code: { type: Number, default: undefined },
    last_duration_ms: { type: Number, default: undefined },
    status: { type: String, required: true, enum: outboxStatuses, default: 'pending' },
    attempts: { type: Number, required: true, default: 0 },
    max_attempts: { type: Number, required: true },
    // When the next attempt may start: creation, the end of a backoff, or the end of a claimed attempt's lease.
    next_attempt_at: { type: Date, required: true },
    last_error: { type: String, default: null },
    // When the message left: accepted by the SMTP server (`sent`) or written to the log (`logged`).
    sent_at: { type: Date, default: null },
  },
  { collection: 'outbox', timestamps, versionKey: false },
);

// The worker's poll (due pending messages, oldest first) and the admin list by status.
outboxSchema.index({ status: 1, next_attempt_at: 1 });
outboxSchema.index({ status: 1, created_at: 1, _id: 1 });
outboxSchema.index({ created_at: 1, _id: 1 });
// GET /webhooks/:id/deliveries, with and without a status filter.
outboxSchema.index({ endpoint: 1, created_at: 1, _id: 1 });
outboxSchema.index({ endpoint: 1, status: 1, created_at: 1, _id: 1 });

export type OutboxRecord = InferSchemaType<typeof outboxSchema> & { _id: Types.ObjectId };
export const OutboxMessage = mongoose.model('OutboxMessage', outboxSchema);

// One document per delivery attempt: `_id` = "<message id>:<attempt>". Inserting it is the claim; the
// unique _id decides the winner on MongoDB and FerretDB alike (FerretDB's findOneAndUpdate is not atomic
// between clients). `lease_until` is informational: the message's next_attempt_at carries the lease.
const outboxClaimSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    message: { type: mongoose.Schema.Types.ObjectId, required: true },
    attempt: { type: Number, required: true },
    worker: { type: String, required: true },
    lease_until: { type: Date, required: true },
    // Claims are only needed while a message can still be retried; kept 30 days (TTL, or the sweeper).
    expires_at: { type: Date, required: true },
  },
  { collection: 'outbox_claims', versionKey: false },
);
outboxClaimSchema.index({ expires_at: 1 }, { expireAfterSeconds: 0 });
outboxClaimSchema.index({ message: 1 });

export const OutboxClaim = mongoose.model('OutboxClaim', outboxClaimSchema);

/** What the admin outbox view shows: no bodies (they can be large), everything about delivery. */
export function outboxView(message: OutboxRecord) {
  const id = message._id.toHexString();
  return {
    id,
    message_id: id,
    event: message.event,
    to: message.to ?? '',
    subject: message.subject ?? '',
    status: message.status,
    attempts: message.attempts,
    max_attempts: message.max_attempts,
    next_attempt_at: message.next_attempt_at,
    last_error: message.last_error ?? null,
    sent_at: message.sent_at ?? null,
    created_at: message.created_at,
    updated_at: message.updated_at,
  };
}
export type OutboxView = ReturnType<typeof outboxView>;
