import { createHash, createSecretKey, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import mongoose from 'mongoose';
import { z } from 'zod';
import { config } from '../config/env';
import { roles, type Role } from '../config/permissions';
import { insertedFirst } from '../database/unique-insert';
import { RefreshToken, type RefreshTokenRecord } from '../models/refresh-token.model';
import { TokenClaim } from '../models/token-claim.model';
import { AppError } from '../utils/app-error';

export type PrincipalType = 'user' | 'customer';

export interface TokenSubject {
  type: PrincipalType;
  id: string;
  role: Role;
  tokenVersion: number;
}

const claimsSchema = z.object({
  sub: z.string().regex(/^[0-9a-f]{24}$/),
  typ: z.enum(['user', 'customer']),
  role: z.enum(roles),
  ver: z.number().int().min(0),
  // jsonwebtoken checks `exp` only when it is present: a signed token without one would never expire.
  exp: z.number().int(),
  iat: z.number().int(),
});
export type AccessClaims = z.output<typeof claimsSchema>;

// Made once: given a string, jsonwebtoken first tries (and fails) to parse it as a public key on every call.
let signingKey: KeyObject | undefined;
const jwtKey = () => (signingKey ??= createSecretKey(Buffer.from(config.auth.jwtSecret, 'utf8')));

export function issueAccessToken(subject: TokenSubject): string {
  return jwt.sign({ typ: subject.type, role: subject.role, ver: subject.tokenVersion }, jwtKey(), {
    algorithm: 'HS256',
    subject: subject.id,
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    expiresIn: config.auth.accessTokenTtlSeconds,
    jwtid: randomUUID(),
  });
}

/** Verifies signature (HS256 only: `alg: none` and others are refused), expiry, issuer and audience. */
export function verifyAccessToken(token: string): AccessClaims {
  // A token verified before gives the same answer until it expires: same bytes, same key, same checks. Every
  // request carries one, and verifying (HMAC, two JSON parses, the claims schema) was ~4% of a lookup's CPU.
  const known = verified.get(token);
  if (known && Math.floor(Date.now() / 1000) < known.exp) return known;
  const claims = Object.freeze(verifyAccessTokenOnce(token));
  if (verified.size >= MAX_VERIFIED) verified.clear();
  verified.set(token, claims);
  return claims;
}

const MAX_VERIFIED = 10_000;
const verified = new Map<string, AccessClaims>();

function verifyAccessTokenOnce(token: string): AccessClaims {
  let payload: unknown;
  try {
    payload = jwt.verify(token, jwtKey(), {
      algorithms: ['HS256'],
      issuer: config.auth.issuer,
      audience: config.auth.audience,
    });
  } catch (error) {
    if (error instanceof jwt.TokenExpiredError) throw new AppError(401, 'TOKEN_EXPIRED', 'Token has expired');
    throw new AppError(401, 'INVALID_TOKEN', 'Invalid token');
  }
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success) throw new AppError(401, 'INVALID_TOKEN', 'Invalid token');
  return claims.data;
}

function hashToken(raw: string): string {
  return createHash('sha256').update(raw).digest('hex');
}

const refreshExpiry = () => new Date(Date.now() + config.auth.refreshTokenTtlDays * 86_400_000);

async function storeRefreshToken(subject: TokenSubject, familyId: string): Promise<{ raw: string; tokenHash: string }> {
  const raw = randomBytes(32).toString('base64url');
  const tokenHash = hashToken(raw);
  await RefreshToken.create({
    token_hash: tokenHash,
    family_id: familyId,
    principal_type: subject.type,
    principal_id: new mongoose.Types.ObjectId(subject.id),
    token_version: subject.tokenVersion,
    expires_at: refreshExpiry(),
  });
  return { raw, tokenHash };
}

/** A new sign-in: the first token of a new family. */
export async function issueRefreshToken(subject: TokenSubject): Promise<string> {
  return (await storeRefreshToken(subject, randomUUID())).raw;
}

// Rotation and revocation decide by inserting a unique _id into token_claims (see the model): FerretDB 1.x
// runs a conditional update as read-then-write, so two concurrent uses of one token could both pass one.
const familyMark = (familyId: string) => `family:${familyId}`;

/**
 * The successor of a consumed token. If the family is being revoked meanwhile (a concurrent reuse of the
 * consumed token), the successor must not survive: `revokeFamily` inserts the family's mark before it sweeps
 * the live tokens, and the successor looks for the mark only after it is stored. Finding it, it revokes
 * itself; finding none, it was stored before the mark, so before the sweep began, and the sweep revokes it.
 * The request that won the claim still answers 200, but that sign-in cannot be refreshed again.
 */
export async function issueSuccessorRefreshToken(subject: TokenSubject, familyId: string): Promise<string> {
  const { raw, tokenHash } = await storeRefreshToken(subject, familyId);
  if (await TokenClaim.exists({ _id: familyMark(familyId) })) {
    await RefreshToken.updateOne({ token_hash: tokenHash }, { $set: { revoked_at: new Date() } });
  }
  return raw;
}

const invalidRefresh = () => new AppError(401, 'INVALID_REFRESH_TOKEN', 'Invalid or expired refresh token');

/** True for the one request that uses this token first, on any engine; the claim lives as long as the token. */
function claimUse(token: RefreshTokenRecord): Promise<boolean> {
  return insertedFirst(() => TokenClaim.create({ _id: `used:${token.token_hash}`, expires_at: token.expires_at }));
}

/**
 * Consumes a refresh token: of any number of uses, sequential or concurrent, exactly one wins the claim. Any
 * other use of a token that was already used or revoked is a replay and revokes its whole family (that
 * sign-in). An expired token is refused without more.
 */
export async function consumeRefreshToken(raw: string): Promise<RefreshTokenRecord> {
  const known = await RefreshToken.findOne({ token_hash: hashToken(raw) }).lean<RefreshTokenRecord>();
  if (!known || (!known.revoked_at && known.expires_at <= new Date())) throw invalidRefresh();
  if (known.revoked_at || !(await claimUse(known))) {
    await revokeFamily(known.family_id);
    throw invalidRefresh();
  }
  // Marked used for every other reader (logout, revocation sweeps); the claim above is what decided.
  await RefreshToken.updateOne({ token_hash: known.token_hash }, { $set: { revoked_at: new Date() } });
  return known;
}

/**
 * Ends a sign-in. Two steps, in this order: insert the family's mark, then revoke its live tokens. A
 * successor stored concurrently is either swept by the second step or sees the mark (see above).
 */
export async function revokeFamily(familyId: string): Promise<void> {
  await insertedFirst(() => TokenClaim.create({ _id: familyMark(familyId), expires_at: refreshExpiry() }));
  await RefreshToken.updateMany({ family_id: familyId, revoked_at: null }, { $set: { revoked_at: new Date() } });
}

/** Logout: revokes the sign-in this refresh token belongs to. Unknown tokens are ignored. */
export async function revokeRefreshToken(raw: string): Promise<void> {
  const known = await RefreshToken.findOne({ token_hash: hashToken(raw) }).lean<RefreshTokenRecord>();
  if (known) await revokeFamily(known.family_id);
}

export async function revokeAllRefreshTokens(type: PrincipalType, id: string): Promise<void> {
  await RefreshToken.updateMany(
    { principal_type: type, principal_id: new mongoose.Types.ObjectId(id), revoked_at: null },
    { $set: { revoked_at: new Date() } },
  );
}

export async function deleteRefreshTokens(type: PrincipalType, id: string): Promise<void> {
  await RefreshToken.deleteMany({ principal_type: type, principal_id: new mongoose.Types.ObjectId(id) });
}
