import { z } from 'zod';
import { permissionList } from '../config/permissions';
import { pagingQuery } from '../utils/paging';
import { isoDate, notBlank, objectId } from './common.schema';

const dateTime = z.string().meta({ format: 'date-time' });
const scope = z.enum(permissionList).meta({ description: 'A permission name from the permission table', example: 'customers:read' });

export const createApiKey = {
  body: z
    .object({
      name: z.string().trim().min(1).max(200).meta({ pattern: notBlank, example: 'billing sync' }),
      scopes: z
        .array(scope)
        .min(1)
        .max(permissionList.length)
        .refine((scopes) => new Set(scopes).size === scopes.length, 'must not repeat a scope')
        .meta({ description: 'What the key may do, within its owner’s current permissions', uniqueItems: true }),
      expires_at: isoDate
        .nullable()
        .optional()
        .meta({ description: 'When the key stops working, in the future; absent or null: never', example: '2099-01-01T00:00:00Z' }),
    })
    .strict(),
};

export const listApiKeys = {
  query: z
    .object({
      ...pagingQuery(['created_at'] as const, '-created_at'),
      owner_id: objectId.optional().meta({ description: 'ADMIN only: the keys of one staff user' }),
    })
    .strict(),
};

export const apiKeyById = { params: z.object({ api_key_id: objectId }).strict() };

export const apiKeyResponse = z
  .object({
    id: objectId,
    api_key_id: objectId,
    name: z.string(),
    prefix: z.string().meta({ description: 'Public part of the key: `crm_<prefix>_…`', example: '3f9a1c0b7e42' }),
    owner_id: objectId,
    scopes: z.array(scope),
    expires_at: dateTime.nullable(),
    revoked_at: dateTime.nullable(),
    last_used_at: dateTime.nullable().meta({ description: 'Updated at most once a minute (API_KEY_LAST_USED_INTERVAL_MS)' }),
    created_at: dateTime,
    updated_at: dateTime,
  })
  .strict()
  .meta({ id: 'ApiKey' });

export const createdApiKeyResponse = apiKeyResponse
  .extend({
    key: z.string().meta({
      description: 'The key itself, shown this once and never again (only its hash is stored)',
      example: 'crm_3f9a1c0b7e42_Jq2…',
    }),
  })
  .strict()
  .meta({ id: 'CreatedApiKey' });

export const revokedApiKeyResponse = z.object({ message: z.string(), api_key: apiKeyResponse }).strict().meta({ id: 'RevokedApiKey' });

export type CreateApiKeyBody = z.output<typeof createApiKey.body>;
export type ListApiKeysQuery = z.output<typeof listApiKeys.query>;
