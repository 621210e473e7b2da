import mongoose, { type Types } from 'mongoose';
import { config } from '../../config/env';
import { insertDocuments } from '../../database/transaction';
import { typedCollection } from '../../database/typed-collection';
import { OutboxMessage, type OutboxRecord } from '../../models/outbox.model';
import { WebhookEndpoint, type WebhookEventType } from '../../models/webhook-endpoint.model';
import { isEncrypted } from '../../utils/crypto';
import { openText, sealText } from '../encryption.service';
import { outboxSignals } from '../outbox.service';

// Events → webhook deliveries (SPEC §8). The services' write path calls `publishEvent` where it records
// activity, in the same transaction on a replica set: the event's deliveries are outbox messages, one per
// subscribed endpoint, committed with the entity or not at all (without transactions: written right after
// the entity, like the activity entry). Fanning out here rather than in the worker means no second step that
// could be lost or repeated: once the entity is committed, every delivery exists and is claimed attempt by
// attempt like any outbox message.
//
// Which endpoints subscribe is read from a per-process cache (WEBHOOK_ENDPOINT_CACHE_MS, default 2 s), so a
// write costs no extra round trip while no endpoint listens, and one insert when some do. Changes made by
// this process drop the cache at once; an endpoint created on another instance hears that instance's events
// at once and this one's within the cache period. A delivery to an endpoint disabled or deleted meanwhile is
// dropped by the worker (it re-reads the endpoint for each attempt).
//
// An endpoint with `include_encrypted_fields` gets the event's private data (an interaction's decrypted notes
// and outcome), built only when such an endpoint listens. Its payload is stored sealed (AES-256-GCM under
// DATA_ENCRYPTION_KEY, bound to its outbox message) and opened by the worker right before signing.

interface Subscriber {
  id: Types.ObjectId;
  events: string[];
  includeEncrypted: boolean;
}
interface StoredEndpoint {
  _id: Types.ObjectId;
  events: string[];
  include_encrypted_fields?: boolean;
}

let cached: { loadedAt: number; subscribers: Subscriber[] } | undefined;
let loading: Promise<Subscriber[]> | undefined;
let generation = 0;

async function loadSubscribers(): Promise<Subscriber[]> {
  const startedAt = Date.now();
  const started = generation;
  // The raw collection with no session: read outside any transaction in progress, so one request's
  // transaction aborting cannot fail the others waiting for this load.
  const rows = await typedCollection<StoredEndpoint>(WebhookEndpoint)
    .find({ active: true }, { projection: { events: 1, include_encrypted_fields: 1 } })
    .toArray();
  const subscribers = rows.map((row) => ({ id: row._id, events: row.events, includeEncrypted: row.include_encrypted_fields === true }));
  if (started === generation) cached = { loadedAt: startedAt, subscribers };
  return subscribers;
}

async function activeSubscribers(): Promise<Subscriber[]> {
  if (cached && Date.now() - cached.loadedAt < config.webhooks.endpointCacheMs) return cached.subscribers;
  loading ??= loadSubscribers().finally(() => {
    loading = undefined;
  });
  return loading;
}

/** Called after any change to endpoints in this process: the next event reads them afresh. */
export function forgetSubscribers(): void {
  cached = undefined;
  loading = undefined;
  generation += 1;
}

/** Attempts a delivery gets: the first, then retries whose doubling delays fit in the retry window (~24 h). */
export function maxAttemptsFor(backoffMs: number, retryWindowMs: number): number {
  let attempts = 1;
  let elapsed = 0;
  for (let delay = backoffMs; elapsed + delay <= retryWindowMs && attempts < 100; delay *= 2) {
    elapsed += delay;
    attempts += 1;
  }
  return attempts;
}

export type WebhookMessage = Omit<OutboxRecord, '_id'> & { _id: Types.ObjectId };

/** The AES-GCM context of a sealed payload: bound to its outbox message, so it cannot be moved to another. */
const payloadContext = (messageId: Types.ObjectId) => `webhook-payload:${messageId.toHexString()}`;

/** The body to sign and send: a sealed payload (an opted-in endpoint's) is opened here, in the worker. */
export function openPayload(message: Pick<OutboxRecord, '_id' | 'payload'>): string {
  const stored = message.payload ?? '{}';
  return isEncrypted(stored) ? openText(stored, payloadContext(message._id)) : stored;
}

/** One outbox delivery per endpoint for an event already serialised; `sealed` stores the payload encrypted. */
function deliveryDocs(endpoints: Types.ObjectId[], eventId: string, type: string, payload: string, sealed: boolean): WebhookMessage[] {
  const now = new Date();
  const maxAttempts = maxAttemptsFor(config.webhooks.backoffMs, config.webhooks.retryWindowMs);
  return endpoints.map((endpoint) => {
    const _id = new mongoose.Types.ObjectId();
    return {
      _id,
      channel: 'webhook',
      event: type,
      endpoint,
      event_id: eventId,
      payload: sealed ? sealText(payload, payloadContext(_id)) : payload,
      status: 'pending',
      attempts: 0,
      max_attempts: maxAttempts,
      next_attempt_at: now,
      last_error: null,
      sent_at: null,
      created_at: now,
      updated_at: now,
    };
  });
}

/**
 * Inserts the deliveries in the current transaction and answers them as inserted (a worker may claim one the
 * moment it is written: reading it back could show the first attempt already under way).
 */
async function insertDeliveries(docs: WebhookMessage[]): Promise<WebhookMessage[]> {
  if (docs.length === 0) return [];
  // Straight to the collection, like the activity entry: typed values, one insert on the write path.
  await insertDocuments(typedCollection<WebhookMessage>(OutboxMessage), docs);
  outboxSignals.emit('enqueued');
  return docs;
}

/** One outbox delivery per endpoint for an event already serialised; inserted in the current transaction. */
export async function enqueueDeliveries(
  endpoints: Types.ObjectId[],
  eventId: string,
  type: string,
  payload: string,
): Promise<WebhookMessage[]> {
  return insertDeliveries(deliveryDocs(endpoints, eventId, type, payload, false));
}

export function newEventId(): string {
  return `evt_${new mongoose.Types.ObjectId().toHexString()}`;
}

/** The body every endpoint receives: `{id, type, created_at, data: {object, previous?}}`. */
export function eventPayload(eventId: string, type: string, object: object, previous?: object, createdAt = new Date()): string {
  return JSON.stringify({
    id: eventId,
    type,
    created_at: createdAt.toISOString(),
    data: previous === undefined ? { object } : { object, previous },
  });
}

export interface EventData {
  object: object;
  previous?: object;
}

/**
 * Queues `type` for every active endpoint subscribed to it (or to `*`). `build` makes the event's data only
 * when someone listens, so an unsubscribed event costs nothing but the cache check; `buildPrivate` (events
 * with encrypted fields) only when an endpoint that opted in to them listens. One event id for all endpoints.
 */
export async function publishEvent(type: WebhookEventType, build: () => EventData, buildPrivate?: () => EventData): Promise<void> {
  const subscribers = (await activeSubscribers()).filter((s) => s.events.includes(type) || s.events.includes('*'));
  if (subscribers.length === 0) return;
  const opted = buildPrivate ? subscribers.filter((s) => s.includeEncrypted).map((s) => s.id) : [];
  const plain = buildPrivate ? subscribers.filter((s) => !s.includeEncrypted).map((s) => s.id) : subscribers.map((s) => s.id);
  const eventId = newEventId();
  const createdAt = new Date();
  const serialise = (data: EventData) => eventPayload(eventId, type, data.object, data.previous, createdAt);
  const docs = [
    ...(plain.length > 0 ? deliveryDocs(plain, eventId, type, serialise(build()), false) : []),
    ...(opted.length > 0 && buildPrivate ? deliveryDocs(opted, eventId, type, serialise(buildPrivate()), true) : []),
  ];
  await insertDeliveries(docs);
}
