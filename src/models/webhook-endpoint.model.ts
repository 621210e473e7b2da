import mongoose, { type InferSchemaType, type Types } from 'mongoose';
import { timestamps } from './timestamps';

// Webhook endpoints (SPEC §8, ADMIN): where entity events are POSTed, signed per Standard Webhooks. The
// signing secrets are kept sealed (AES-256-GCM under DATA_ENCRYPTION_KEY, like interaction notes): a
// secret must be readable to sign, so it cannot be hashed, but the database never holds it in clear.

export const webhookEventTypes = [
  'customer.created',
  'customer.updated',
  'customer.deleted',
  'customer.restored',
  'customer.merged',
  'interaction.created',
  'interaction.updated',
  'interaction.deleted',
  'interaction.restored',
  'ticket.created',
  'ticket.updated',
  'ticket.deleted',
  'ticket.restored',
  'ticket.status_changed',
  'import.completed',
] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];
/** What an endpoint may subscribe to: an event type, or `*` for all of them. */
export const webhookSubscriptions = [...webhookEventTypes, '*'] as const;

export const webhookDisabledReasons = ['gone', 'failures', 'manual'] as const;

const secretSchema = new mongoose.Schema(
  {
    sealed: { type: String, required: true },
    created_at: { type: Date, required: true },
    // null: the current secret. A rotated-out secret keeps signing until then (the grace period).
    expires_at: { type: Date, default: null },
  },
  { _id: false },
);

const webhookEndpointSchema = new mongoose.Schema(
  {
    url: { type: String, required: true },
    events: { type: [String], required: true, enum: webhookSubscriptions },
    description: { type: String, default: null },
    active: { type: Boolean, required: true, default: true },
    // Opt-in: interaction events carry the decrypted notes and outcome (their deliveries are stored sealed).
    include_encrypted_fields: { type: Boolean, required: true, default: false },
    secrets: { type: [secretSchema], required: true },
    // Failed attempts in a row (any delivery); a success resets it. WEBHOOK_DISABLE_AFTER_FAILURES disables.
    consecutive_failures: { type: Number, required: true, default: 0 },
    disabled_reason: { type: String, enum: [...webhookDisabledReasons, null], default: null },
    disabled_at: { type: Date, default: null },
    created_by: { type: mongoose.Schema.Types.ObjectId, required: true },
  },
  { collection: 'webhook_endpoints', timestamps, versionKey: false },
);
webhookEndpointSchema.index({ created_at: 1, _id: 1 });

export type WebhookEndpointRecord = InferSchemaType<typeof webhookEndpointSchema> & { _id: Types.ObjectId };
export const WebhookEndpoint = mongoose.model('WebhookEndpoint', webhookEndpointSchema);

/** The admin view of an endpoint: never a secret, only when the previous one stops signing. */
export function webhookEndpointView(endpoint: WebhookEndpointRecord) {
  const id = endpoint._id.toHexString();
  const now = Date.now();
  const previous = endpoint.secrets.filter((s) => s.expires_at && s.expires_at.getTime() > now);
  const current = endpoint.secrets.find((s) => !s.expires_at);
  return {
    id,
    webhook_id: id,
    url: endpoint.url,
    events: endpoint.events,
    description: endpoint.description ?? null,
    active: endpoint.active,
    include_encrypted_fields: endpoint.include_encrypted_fields ?? false,
    disabled_reason: endpoint.disabled_reason ?? null,
    disabled_at: endpoint.disabled_at ?? null,
    consecutive_failures: endpoint.consecutive_failures,
    secret_created_at: current?.created_at ?? null,
    previous_secret_expires_at: previous.length > 0 ? new Date(Math.max(...previous.map((s) => s.expires_at?.getTime() ?? 0))) : null,
    created_at: endpoint.created_at,
    updated_at: endpoint.updated_at,
  };
}
export type WebhookEndpointView = ReturnType<typeof webhookEndpointView>;
