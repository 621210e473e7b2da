import { createHash, randomBytes } from 'node:crypto';
import { config } from '../../config/env';
import { insertedFirst } from '../../database/unique-insert';
import { IdempotencyKey, IdempotencyTakeover, type IdempotencyKeyRecord } from '../../models/idempotency-key.model';

// Idempotency-Key (IETF httpapi draft; SPEC §8). Every decision rests on unique inserts — the claim of a
// fresh key, and the takeover of a dead holder's key — because FerretDB runs conditional updates as
// read-then-write; updates are only made by the one holder of a record's current token.

export interface StoredResponse {
  status: number;
  headers: { name: string; value: string }[];
  body: string;
}

export interface IdempotentRequest {
  /** `<type>:<id>` of the caller (`apikey:<id>` for an API key): keys are per principal. */
  principal: string;
  key: string;
  /** Method and URL. */
  request: string;
  /** SHA-256 of the body's bytes, when the body has been read already (streamed uploads: not yet). */
  bodyHash: string | undefined;
  /** Reads the rest of the body and answers its hash (only called to compare with a stored request). */
  readBodyHash: () => Promise<string>;
}

export type ClaimOutcome =
  | { kind: 'owned'; id: string; token: string }
  | { kind: 'replay'; response: StoredResponse }
  | { kind: 'mismatch' }
  | { kind: 'in-flight' };

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function freshRecord(id: string, input: IdempotentRequest, token: string, now: number) {
  return {
    _id: id,
    token,
    request_hash: sha256(input.request),
    body_hash: input.bodyHash ?? null,
    state: 'running' as const,
    lease_until: new Date(now + config.integrations.idempotencyLeaseMs),
    response: null,
    expires_at: new Date(now + config.integrations.idempotencyTtlMs),
  };
}

async function sameRequest(record: IdempotencyKeyRecord, input: IdempotentRequest): Promise<boolean> {
  if (record.request_hash !== sha256(input.request)) return false;
  if (record.body_hash === null || record.body_hash === undefined) return true;
  return record.body_hash === (input.bodyHash ?? (await input.readBodyHash()));
}

/** Replaces a dead holder's (or an expired) record with ours, if we are the one request to do so. */
async function takeOver(held: IdempotencyKeyRecord, input: IdempotentRequest, now: number): Promise<ClaimOutcome | 'gone'> {
  const token = randomBytes(12).toString('hex');
  const won = await insertedFirst(() =>
    IdempotencyTakeover.create({ _id: `${held._id}:${held.token}`, expires_at: new Date(now + config.integrations.idempotencyTtlMs) }),
  );
  if (!won) return { kind: 'in-flight' };
  const expired = held.expires_at.getTime() <= now;
  const fresh = freshRecord(held._id, input, token, now);
  // A dead holder's key stays bound to its first request for its 24 h; an expired one starts afresh.
  const { _id, ...fields } = expired ? fresh : { ...fresh, request_hash: held.request_hash, expires_at: held.expires_at };
  const result = await IdempotencyKey.updateOne(
    { _id },
    { $set: { ...fields, body_hash: expired ? fields.body_hash : (held.body_hash ?? fields.body_hash) } },
  );
  return result.matchedCount === 1 ? { kind: 'owned', id: held._id, token } : 'gone';
}

/**
 * Claims `input.key` for its principal, or says what to answer instead: the stored response (same request),
 * a mismatch (another request used this key), or in flight (the first request is still running).
 */
export async function claimIdempotencyKey(input: IdempotentRequest): Promise<ClaimOutcome> {
  const id = `${input.principal}:${sha256(input.key)}`;
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const now = Date.now();
    const token = randomBytes(12).toString('hex');
    if (await insertedFirst(() => IdempotencyKey.create(freshRecord(id, input, token, now)))) return { kind: 'owned', id, token };
    const held = await IdempotencyKey.findById(id).lean<IdempotencyKeyRecord>();
    if (!held) continue;
    const live = held.expires_at.getTime() > now;
    if (live && !(await sameRequest(held, input))) return { kind: 'mismatch' };
    if (live && held.state === 'done' && held.response) return { kind: 'replay', response: held.response };
    if (live && held.lease_until.getTime() > now) return { kind: 'in-flight' };
    const outcome = await takeOver(held, input, now);
    if (outcome !== 'gone') return outcome;
  }
  return { kind: 'in-flight' };
}

/** Keeps the claim alive while its request runs. */
export async function renewIdempotencyLease(id: string, token: string): Promise<void> {
  await IdempotencyKey.updateOne(
    { _id: id, token },
    { $set: { lease_until: new Date(Date.now() + config.integrations.idempotencyLeaseMs) } },
  );
}

/** Stores the first response; retries with the same key replay it until the record expires. */
export async function storeIdempotentResponse(id: string, token: string, response: StoredResponse, bodyHash: string): Promise<void> {
  await IdempotencyKey.updateOne({ _id: id, token }, { $set: { state: 'done', response, body_hash: bodyHash } });
}

/** Gives the key up (a server error, or a request that ended without an answer): the next retry runs again. */
export async function releaseIdempotencyKey(id: string, token: string): Promise<void> {
  await IdempotencyKey.updateOne({ _id: id, token }, { $set: { lease_until: new Date(0) } });
}
