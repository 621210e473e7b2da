import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import mongoose from 'mongoose';
import { config } from '../../config/env';
import type { Permission, StaffRole } from '../../config/permissions';
import { paginate } from '../../database/paginate';
import { createRecordCache } from '../../database/principal-cache';
import { insertedFirst } from '../../database/unique-insert';
import { ApiKey, ApiKeyUsage, apiKeyView, type ApiKeyRecord } from '../../models/api-key.model';
import type { CreateApiKeyBody, ListApiKeysQuery } from '../../schemas/api-key.schema';
import { AppError } from '../../utils/app-error';
import type { Page } from '../../utils/paging';
import { can, type Principal } from '../../utils/principal';
import { staffAccountState } from '../auth.service';

// API keys (SPEC §8): `crm_<prefix>_<secret>`, 48 bits of public prefix (found by one indexed lookup, shown
// in lists and logs) and 256 bits of secret. Only HMAC-SHA256(pepper, key) is stored: a fast keyed hash is
// right for a high-entropy random key (bcrypt would cost every request ~100 ms for no gain), and without the
// pepper a stolen database cannot even be used to check guesses.

const KEY_PATTERN = /^crm_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

/** Whether a credential is shaped like one of our API keys (a JWT never starts with `crm_`). */
export function looksLikeApiKey(credential: string): boolean {
  return credential.startsWith('crm_');
}

function hashKey(key: string): string {
  return createHmac('sha256', config.integrations.apiKeyPepper).update(key).digest('hex');
}

function newKey(): { prefix: string; key: string } {
  const prefix = randomBytes(6).toString('hex');
  return { prefix, key: `crm_${prefix}_${randomBytes(32).toString('base64url')}` };
}

/** Creates a key for the caller; the answer is the only place the key itself ever appears. */
export async function createApiKey(input: CreateApiKeyBody, caller: Principal) {
  // A key minting keys would outlive its own revocation: keys are made by a signed-in user.
  if (caller.apiKey) throw AppError.forbidden('An API key cannot create API keys; sign in to create one');
  const notHeld = input.scopes.filter((scope) => !can(caller, scope));
  if (notHeld.length > 0) {
    throw new AppError(
      403,
      'SCOPE_NOT_HELD',
      'A key can only be given permissions its owner holds',
      notHeld.map((scope) => ({ location: 'body', field: 'scopes', message: `you do not hold ${scope}` })),
    );
  }
  if (input.expires_at && input.expires_at.getTime() <= Date.now()) {
    throw AppError.validation([{ location: 'body', field: 'expires_at', message: 'must be in the future' }]);
  }
  // 48 random bits: a prefix collision is rare, and the unique index turns it into a retry, never a shared prefix.
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const { prefix, key } = newKey();
    let created: ApiKeyRecord | undefined;
    const inserted = await insertedFirst(async () => {
      const doc = await ApiKey.create({
        prefix,
        secret_hash: hashKey(key),
        name: input.name,
        owner: caller.id,
        scopes: input.scopes,
        expires_at: input.expires_at ?? null,
      });
      created = doc.toObject<ApiKeyRecord>();
    });
    if (inserted && created) return { ...apiKeyView(created), key };
  }
  throw new Error('Could not find a free API key prefix');
}

/** One's own keys; with `api-keys:manage-all` everyone's (or one owner's). Revoked and expired keys stay listed. */
export async function listApiKeys(query: ListApiKeysQuery, caller: Principal): Promise<Page<ReturnType<typeof apiKeyView>>> {
  const all = can(caller, 'api-keys:manage-all');
  if (!all && query.owner_id && query.owner_id !== caller.id) return { items: [], total: 0, page: query.page ?? 1, limit: query.limit };
  const owner = all ? query.owner_id : caller.id;
  const page = await paginate(ApiKey, owner ? { owner: new mongoose.Types.ObjectId(owner) } : {}, query);
  const usage = await lastUsedTimes(page.items.map((key) => key._id));
  return { ...page, items: page.items.map((key) => apiKeyView(key, usage.get(key._id.toHexString()) ?? null)) };
}

async function lastUsedTimes(ids: mongoose.Types.ObjectId[]): Promise<Map<string, Date>> {
  if (ids.length === 0) return new Map();
  // sanitizeFilter would turn an operator into a literal: this one is ours, not input.
  const rows = await ApiKeyUsage.find({ _id: mongoose.trusted({ $in: ids }) }).lean();
  return new Map(rows.map((row) => [row._id.toHexString(), row.last_used_at]));
}

/** Revokes a key at once (idempotent). Another owner's key is 404 unless the caller may manage all keys. */
export async function revokeApiKey(id: string, caller: Principal) {
  const scope = can(caller, 'api-keys:manage-all') ? { _id: id } : { _id: id, owner: caller.id };
  const key = await ApiKey.findOne(scope).lean<ApiKeyRecord>();
  if (!key) throw AppError.notFound('API key');
  if (!key.revoked_at) await ApiKey.updateOne({ _id: key._id, revoked_at: null }, { $set: { revoked_at: new Date() } });
  const revoked = await ApiKey.findById(key._id).lean<ApiKeyRecord>();
  if (!revoked) throw AppError.notFound('API key');
  return apiKeyView(revoked, (await lastUsedTimes([key._id])).get(id) ?? null);
}

interface KeyState {
  id: string;
  hash: string;
  owner: string;
  scopes: readonly Permission[];
  expiresAt: number | null;
  revoked: boolean;
}

const cachedKey = createRecordCache<KeyState>();

async function keyState(prefix: string): Promise<KeyState | null> {
  return cachedKey(ApiKey.collection.collectionName, prefix, async () => {
    const found = await ApiKey.findOne(
      { prefix },
      { secret_hash: 1, owner: 1, scopes: 1, expires_at: 1, revoked_at: 1 },
    ).lean<ApiKeyRecord>();
    if (!found) return null;
    return {
      id: found._id.toHexString(),
      hash: found.secret_hash,
      owner: found.owner.toHexString(),
      scopes: found.scopes,
      expiresAt: found.expires_at ? found.expires_at.getTime() : null,
      revoked: Boolean(found.revoked_at),
    };
  });
}

const lastUsedWrites = new Map<string, number>();
/** prefix → hash of the key last verified with it in this process (for the rate limiter's key). */
const verifiedHashes = new Map<string, string>();

/** At most one `last_used_at` write per key per interval and process, off the request's path. */
function touchLastUsed(keyId: string, now: number): void {
  const last = lastUsedWrites.get(keyId);
  if (last !== undefined && now - last < config.integrations.apiKeyLastUsedIntervalMs) return;
  if (lastUsedWrites.size >= 10_000) lastUsedWrites.clear();
  lastUsedWrites.set(keyId, now);
  // Two instances may upsert a key's first use at once; the loser's duplicate-key error changes nothing.
  ApiKeyUsage.updateOne({ _id: keyId }, { $set: { last_used_at: new Date(now) } }, { upsert: true }).catch(() =>
    lastUsedWrites.delete(keyId),
  );
}

const invalidKey = () => new AppError(401, 'INVALID_API_KEY', 'Invalid, revoked or expired API key');

function sameHash(a: string, b: string): boolean {
  const [left, right] = [Buffer.from(a, 'hex'), Buffer.from(b, 'hex')];
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * The principal an API key stands for: its owner as they are now (a deleted owner is 401, a demoted one
 * keeps only what the new role and the key's scopes both allow), for as long as the key is neither revoked
 * nor expired. One indexed lookup by prefix, shared for a moment like the principal behind a token.
 */
export async function resolveApiKeyPrincipal(key: string): Promise<Principal> {
  const match = KEY_PATTERN.exec(key);
  const state = match?.[1] ? await keyState(match[1]) : null;
  const now = Date.now();
  const hash = hashKey(key);
  if (!match?.[1] || !state || !sameHash(hash, state.hash)) throw invalidKey();
  if (verifiedHashes.size >= 10_000) verifiedHashes.clear();
  verifiedHashes.set(match[1], hash);
  if (state.revoked || (state.expiresAt !== null && state.expiresAt <= now)) throw invalidKey();
  const owner = await staffAccountState(state.owner);
  if (!owner?.role) throw invalidKey();
  touchLastUsed(state.id, now);
  return {
    type: 'user',
    id: state.owner,
    role: owner.role as StaffRole,
    apiKey: { id: state.id, prefix: match[1], scopes: new Set(state.scopes) },
  };
}

/**
 * The rate-limit identity of a request carrying a key this process has verified: `key:<prefix>`, so limits
 * count per key rather than per address. An unknown or unverified key counts against its address like any
 * other request (otherwise random prefixes would each get a fresh allowance). No database access.
 */
export function verifiedKeyPrefix(key: string): string | undefined {
  const match = KEY_PATTERN.exec(key);
  return match?.[1] && verifiedHashes.get(match[1]) === hashKey(key) ? match[1] : undefined;
}
