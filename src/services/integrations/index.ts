// Integrations (SPEC §8), the folder's only door. API keys (api-keys.ts) and idempotent writes
// (idempotency.ts); webhooks: endpoints and deliveries for ADMINs (webhook-endpoints.ts), entity changes
// published as events in the write path (webhook-changes.ts, webhook-events.ts), one delivery attempt for the
// outbox worker (webhook-delivery.ts), Standard Webhooks signing (webhook-signing.ts) and the SSRF guard
// (webhook-address.ts).
export { createApiKey, listApiKeys, looksLikeApiKey, resolveApiKeyPrincipal, revokeApiKey, verifiedKeyPrefix } from './api-keys';
export {
  claimIdempotencyKey,
  releaseIdempotencyKey,
  renewIdempotencyLease,
  storeIdempotentResponse,
  type ClaimOutcome,
  type StoredResponse,
} from './idempotency';
export { publishChange, publishRestored, type ChangedEntity, type ChangeRecords } from './webhook-changes';
export { publishEvent } from './webhook-events';
export { deliverWebhook, webhookPolicyFromConfig, type WebhookPolicy } from './webhook-delivery';
export {
  createEndpoint,
  deleteEndpoint,
  getEndpoint,
  listDeliveries,
  listEndpoints,
  redeliver,
  rotateSecret,
  sendTestEvent,
  updateEndpoint,
} from './webhook-endpoints';
