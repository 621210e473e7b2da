import mongoose, { type InferSchemaType, type Types } from 'mongoose';
import { permissionList } from '../config/permissions';
import { timestamps } from './timestamps';

// API keys (SPEC §8). The key itself (`crm_<prefix>_<secret>`) is shown once; only its keyed hash is stored
// (HMAC-SHA256 under a server-side pepper: the secret is 256 random bits, so a slow password hash would add
// cost to every request without adding safety). `prefix` is public: it finds the record in one indexed
// lookup and names the key in lists and logs.
const apiKeySchema = new mongoose.Schema(
  {
    prefix: { type: String, required: true },
    secret_hash: { type: String, required: true, select: false },
    name: { type: String, required: true, trim: true, maxlength: 200 },
    owner: { type: mongoose.Schema.Types.ObjectId, required: true },
    scopes: { type: [{ type: String, enum: permissionList }], required: true },
    expires_at: { type: Date, default: null },
    revoked_at: { type: Date, default: null },
  },
  { collection: 'api_keys', timestamps, versionKey: false },
);

apiKeySchema.index({ prefix: 1 }, { unique: true });
// GET /api-keys: one's own keys, or every key for an ADMIN, newest first with keyset paging.
apiKeySchema.index({ owner: 1, created_at: 1, _id: 1 });
apiKeySchema.index({ created_at: 1, _id: 1 });

export type ApiKeyRecord = InferSchemaType<typeof apiKeySchema> & { _id: Types.ObjectId };
export const ApiKey = mongoose.model('ApiKey', apiKeySchema);

// When each key was last used, apart from the keys themselves: these writes (throttled, at most one a minute
// per key and instance) must not drop the cached key records, which any write to `api_keys` does.
const apiKeyUsageSchema = new mongoose.Schema(
  { _id: { type: mongoose.Schema.Types.ObjectId, required: true }, last_used_at: { type: Date, required: true } },
  { collection: 'api_key_usage', versionKey: false },
);

export const ApiKeyUsage = mongoose.model('ApiKeyUsage', apiKeyUsageSchema);

/** The public shape of a key: never the secret or its hash. */
export function apiKeyView(key: ApiKeyRecord, lastUsedAt: Date | null = null) {
  const id = key._id.toHexString();
  return {
    id,
    api_key_id: id,
    name: key.name,
    prefix: key.prefix,
    owner_id: key.owner.toHexString(),
    scopes: [...key.scopes],
    expires_at: key.expires_at ?? null,
    revoked_at: key.revoked_at ?? null,
    last_used_at: lastUsedAt,
    created_at: key.created_at,
    updated_at: key.updated_at,
  };
}
export type ApiKeyView = ReturnType<typeof apiKeyView>;
