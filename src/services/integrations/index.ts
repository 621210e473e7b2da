// Integrations (SPEC §8): API keys and idempotent writes. This file is the folder's only door.
export { createApiKey, listApiKeys, looksLikeApiKey, resolveApiKeyPrincipal, revokeApiKey, verifiedKeyPrefix } from './api-keys';
export {
  claimIdempotencyKey,
  releaseIdempotencyKey,
  renewIdempotencyLease,
  storeIdempotentResponse,
  type ClaimOutcome,
  type StoredResponse,
} from './idempotency';
