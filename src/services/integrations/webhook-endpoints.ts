import mongoose from 'mongoose';
import { config } from '../../config/env';
import { paginate } from '../../database/paginate';
import { inTransaction } from '../../database/transaction';
import { OutboxMessage, type OutboxRecord } from '../../models/outbox.model';
import {
  WebhookEndpoint,
  webhookEndpointView,
  type WebhookEndpointRecord,
  type WebhookEndpointView,
} from '../../models/webhook-endpoint.model';
import type { CreateWebhookBody, ListDeliveriesQuery, ListWebhooksQuery, UpdateWebhookBody } from '../../schemas/webhook.schema';
import { AppError } from '../../utils/app-error';
import type { Page } from '../../utils/paging';
import type { Principal } from '../../utils/principal';
import { outboxSignals } from '../outbox.service';
import { resolveTarget, WebhookAddressError } from './webhook-address';
import { enqueueDeliveries, eventPayload, forgetSubscribers, maxAttemptsFor, newEventId } from './webhook-events';
import { generateSecret, sealSecret } from './webhook-signing';

// Webhook endpoints and their deliveries, for ADMINs (SPEC §8). Every change to an endpoint drops this
// process's subscriber cache (webhook-events.ts), so its next event sees the change.

/** Refuses a URL whose form or resolved addresses are not allowed (400, naming the field). */
async function assertDeliverable(url: string): Promise<void> {
  try {
    await resolveTarget(url);
  } catch (error) {
    if (error instanceof WebhookAddressError) throw AppError.validation([{ location: 'body', field: 'url', message: error.message }]);
    throw error;
  }
}

async function findEndpoint(id: string): Promise<WebhookEndpointRecord> {
  const endpoint = await WebhookEndpoint.findById(id).lean<WebhookEndpointRecord>();
  if (!endpoint) throw AppError.notFound('Webhook');
  return endpoint;
}

export function deliveryView(message: OutboxRecord) {
  const id = message._id.toHexString();
  return {
    id,
    delivery_id: id,
    webhook_id: message.endpoint?.toHexString() ?? '',
    event_id: message.event_id ?? '',
    event: message.event,
    status: message.status,
    attempts: message.attempts,
    max_attempts: message.max_attempts,
    next_attempt_at: message.next_attempt_at,
    last_status_code: message.last_status_code ?? null,
    last_duration_ms: message.last_duration_ms ?? null,
    last_error: message.last_error ?? null,
    delivered_at: message.sent_at ?? null,
    created_at: message.created_at,
    updated_at: message.updated_at,
  };
}
export type DeliveryView = ReturnType<typeof deliveryView>;

export async function createEndpoint(input: CreateWebhookBody, principal: Principal) {
  await assertDeliverable(input.url);
  const _id = new mongoose.Types.ObjectId();
  const secret = generateSecret();
  const created = await WebhookEndpoint.create({
    _id,
    url: input.url,
    events: input.events,
    description: input.description ?? null,
    active: input.active,
    include_encrypted_fields: input.include_encrypted_fields,
    disabled_reason: input.active ? null : 'manual',
    disabled_at: input.active ? null : new Date(),
    secrets: [{ sealed: sealSecret(secret, _id.toHexString()), created_at: new Date(), expires_at: null }],
    created_by: new mongoose.Types.ObjectId(principal.id),
  });
  forgetSubscribers();
  return { ...webhookEndpointView(created.toObject<WebhookEndpointRecord>()), secret };
}

export async function listEndpoints(query: ListWebhooksQuery): Promise<Page<WebhookEndpointView>> {
  const page = await paginate(WebhookEndpoint, {}, query);
  return { ...page, items: page.items.map(webhookEndpointView) };
}

export async function getEndpoint(id: string): Promise<WebhookEndpointView> {
  return webhookEndpointView(await findEndpoint(id));
}

export async function updateEndpoint(id: string, changes: UpdateWebhookBody): Promise<WebhookEndpointView> {
  const current = await findEndpoint(id);
  if (changes.url !== undefined) await assertDeliverable(changes.url);
  const set: Record<string, unknown> = {};
  if (changes.url !== undefined) set.url = changes.url;
  if (changes.events !== undefined) set.events = changes.events;
  if (changes.description !== undefined) set.description = changes.description;
  if (changes.include_encrypted_fields !== undefined) set.include_encrypted_fields = changes.include_encrypted_fields;
  if (changes.active === true && !current.active)
    Object.assign(set, { active: true, disabled_reason: null, disabled_at: null, consecutive_failures: 0 });
  if (changes.active === false && current.active) Object.assign(set, { active: false, disabled_reason: 'manual', disabled_at: new Date() });
  if (Object.keys(set).length > 0) await WebhookEndpoint.updateOne({ _id: current._id }, { $set: set }, { runValidators: true });
  forgetSubscribers();
  return getEndpoint(id);
}

/** Deletes the endpoint and its deliveries (pending ones are never attempted). */
export async function deleteEndpoint(id: string): Promise<void> {
  const endpoint = await findEndpoint(id);
  await inTransaction(async () => {
    await WebhookEndpoint.deleteOne({ _id: endpoint._id });
    await OutboxMessage.deleteMany({ endpoint: endpoint._id });
  });
  forgetSubscribers();
}

/**
 * A new current secret; the previous ones keep signing for the grace period (both signatures go out), so
 * receivers can switch without missing a delivery. Secrets already past their grace period are dropped.
 */
export async function rotateSecret(id: string, graceHours: number | undefined) {
  const endpoint = await findEndpoint(id);
  const now = Date.now();
  const graceMs = graceHours === undefined ? config.webhooks.secretGraceMs : graceHours * 3_600_000;
  const expiresAt = new Date(now + graceMs);
  const secret = generateSecret();
  const stillSigning = endpoint.secrets
    .filter((s) => !s.expires_at || s.expires_at.getTime() > now)
    .map((s) => ({ ...s, expires_at: s.expires_at && s.expires_at < expiresAt ? s.expires_at : expiresAt }));
  const secrets = [
    ...(graceMs > 0 ? stillSigning : []),
    { sealed: sealSecret(secret, endpoint._id.toHexString()), created_at: new Date(now), expires_at: null },
  ];
  // Conditional on the secrets read: of two concurrent rotations one answers 409 rather than both claiming.
  const result = await WebhookEndpoint.updateOne({ _id: endpoint._id, updated_at: endpoint.updated_at }, { $set: { secrets } });
  if (result.matchedCount === 0) throw AppError.conflict('The webhook changed meanwhile; rotate again');
  return { webhook: await getEndpoint(id), secret };
}

/** Queues a `ping` to this endpoint alone, signed and delivered like any event. */
export async function sendTestEvent(id: string): Promise<DeliveryView> {
  const endpoint = await findEndpoint(id);
  if (!endpoint.active) throw AppError.conflict('The webhook is disabled; re-enable it first', undefined, 'WEBHOOK_DISABLED');
  const eventId = newEventId();
  const object = { webhook_id: endpoint._id.toHexString(), message: 'ping' };
  // The delivery as written: the worker may already be sending it, so it is not read back.
  const [delivery] = await enqueueDeliveries([endpoint._id], eventId, 'ping', eventPayload(eventId, 'ping', object));
  if (!delivery) throw AppError.notFound('Delivery');
  return deliveryView(delivery);
}

export async function listDeliveries(id: string, query: ListDeliveriesQuery): Promise<Page<DeliveryView>> {
  const endpoint = await findEndpoint(id);
  const filter = { endpoint: endpoint._id, ...(query.status ? { status: query.status } : {}) };
  const page = await paginate(OutboxMessage, filter, query);
  return { ...page, items: page.items.map(deliveryView) };
}

/**
 * Sends a delivery again (delivered or failed) with a fresh set of attempts and the same `webhook-id`, so the
 * receiver can recognise a repeat. A delivery still pending answers 409: it is on its way already.
 */
export async function redeliver(id: string, deliveryId: string): Promise<DeliveryView> {
  const endpoint = await findEndpoint(id);
  const filter = { _id: new mongoose.Types.ObjectId(deliveryId), endpoint: endpoint._id };
  const delivery = await OutboxMessage.findOne(filter).lean<OutboxRecord>();
  if (!delivery) throw AppError.notFound('Delivery');
  if (!endpoint.active) throw AppError.conflict('The webhook is disabled; re-enable it first', undefined, 'WEBHOOK_DISABLED');
  if (delivery.status === 'pending') throw AppError.conflict('The delivery is still pending', undefined, 'DELIVERY_PENDING');
  const extra = maxAttemptsFor(config.webhooks.backoffMs, config.webhooks.retryWindowMs);
  // Attempt numbers keep counting up, so the new attempts' claims cannot collide with the old ones.
  const result = await OutboxMessage.updateOne(
    { ...filter, status: delivery.status, attempts: delivery.attempts },
    { $set: { status: 'pending', next_attempt_at: new Date(), max_attempts: delivery.attempts + extra, last_error: null, sent_at: null } },
  );
  if (result.matchedCount === 0) throw AppError.conflict('The delivery changed meanwhile; read it again and retry');
  outboxSignals.emit('enqueued');
  const updated = await OutboxMessage.findById(delivery._id).lean<OutboxRecord>();
  if (!updated) throw AppError.notFound('Delivery');
  return deliveryView(updated);
}
