import * as apiKeys from '../controllers/api-key.controller';
import { commonErrors, errorResponses, listOf, ok } from '../openapi/registry';
import * as schemas from '../schemas/api-key.schema';
import { route } from './route';

const tags = ['api keys'];

export const apiKeyRoutes = [
  route({
    method: 'post',
    path: '/api-keys',
    operationId: 'createApiKey',
    permissions: ['api-keys:manage'],
    noStore: true,
    request: schemas.createApiKey,
    handler: apiKeys.createApiKey,
    tags,
    summary: 'Create an API key for yourself (staff)',
    description:
      'The answer holds the key (`crm_<prefix>_<secret>`) this once: only its keyed hash is stored, so it cannot be shown ' +
      'again. Send it as `X-API-Key: <key>` or `Authorization: Bearer <key>`; it acts as you, with the permissions that ' +
      'both your role (as it is at each request) and the key’s `scopes` grant. Scopes you do not hold are refused ' +
      '(403 `SCOPE_NOT_HELD`), as is a request authenticated by an API key (keys are made by signed-in users). ' +
      '`expires_at` must be in the future. Idempotency-Key is not honoured here: the answer holds a secret, which is never stored.',
    responses: {
      201: ok('The key, shown once', schemas.createdApiKeyResponse),
      ...errorResponses(400, 401, 403, 503, ...commonErrors),
    },
  }),
  route({
    method: 'get',
    path: '/api-keys',
    operationId: 'listApiKeys',
    permissions: ['api-keys:manage'],
    request: schemas.listApiKeys,
    handler: apiKeys.listApiKeys,
    tags,
    summary: 'List API keys: your own (ADMIN: everyone’s)',
    description:
      'Name, prefix, scopes, owner and created/expires/revoked/last-used times, newest first; never the key or its hash. ' +
      'Revoked and expired keys stay listed. An ADMIN sees every key, or one owner’s with `owner_id`.',
    responses: {
      200: listOf('API keys', schemas.apiKeyResponse),
      ...errorResponses(400, 401, 403, 503, ...commonErrors),
    },
  }),
  route({
    method: 'delete',
    path: '/api-keys/:api_key_id',
    operationId: 'revokeApiKey',
    permissions: ['api-keys:manage'],
    request: schemas.apiKeyById,
    handler: apiKeys.revokeApiKey,
    tags,
    summary: 'Revoke an API key (your own; ADMIN: anyone’s)',
    description:
      'The key stops working at once on this instance, and within 2 seconds on the others. Revoking a revoked key answers ' +
      'the same. Another user’s key answers 404 unless the caller is an ADMIN.',
    responses: {
      200: ok('The key, revoked', schemas.revokedApiKeyResponse),
      ...errorResponses(400, 401, 403, 404, 503, ...commonErrors),
    },
  }),
];
