import { createHash, createSecretKey, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import mongoose from 'mongoose';
import { z } from 'zod';
import { config } from '../config/env';
import { roles, type Role } from '../config/permissions';
import { RefreshToken, type RefreshTokenRecord } from '../models/refresh-token.model';
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

async function storeRefreshToken(subject: TokenSubject, familyId: string): Promise<{ raw: string; tokenHash: string }> {
  const raw = randomBytes(32).toString('base64url');
  const tokenHash = hashToken(raw);
  await RefreshToken.create({
    token_hash: tokenHash,
    family_id: familyId,
    principal_type: subject.type,
    principal_id: new mongoose.Types.ObjectId(subject.id),
    token_version: subject.tokenVersion,
    expires_at: new Date(Date.now() + config.auth.refreshTokenTtlDays * 86_400_000),
  });
  return { raw, tokenHash };
}

/** A new sign-in: the first token of a new family. */
export async function issueRefreshToken(subject: TokenSubject): Promise<string> {
  return (await storeRefreshToken(subject, randomUUID())).raw;
}

/**
 * The successor of a consumed token. If the family is being revoked meanwhile (a concurrent reuse of the
 * consumed token), the successor must not survive: `revokeFamily` marks the family before it sweeps the
 * live tokens, and the successor looks for a mark only after it is stored. Finding one, it revokes itself;
 * finding none, it was stored before any mark, so before the sweep began, and the sweep revokes it.
 * The request that won the claim still answers 200, but that sign-in cannot be refreshed again.
 */
export async function issueSuccessorRefreshToken(subject: TokenSubject, familyId: string): Promise<string> {
  const { raw, tokenHash } = await storeRefreshToken(subject, familyId);
  if (await RefreshToken.exists({ family_id: familyId, family_revoked_at: mongoose.trusted({ $ne: null }) })) {
    await RefreshToken.updateOne({ token_hash: tokenHash }, { $set: { revoked_at: new Date(), family_revoked_at: new Date() } });
  }
  return raw;
}

const invalidRefresh = () => new AppError(401, 'INVALID_REFRESH_TOKEN', 'Invalid or expired refresh token');

/**
 * Consumes a refresh token with one conditional update whose modifiedCount decides (findOneAndUpdate is
 * not atomic between clients on FerretDB): of any number of concurrent uses exactly one wins. A token that
 * was already used is a replay — sequential or concurrent — and revokes its whole family (that sign-in).
 */
export async function consumeRefreshToken(raw: string): Promise<RefreshTokenRecord> {
  const now = new Date();
  const tokenHash = hashToken(raw);
  const claim = await RefreshToken.updateOne({ token_hash: tokenHash, revoked_at: null, expires_at: mongoose.trusted({ $gt: now }) }, { $set: { revoked_at: now } });
  const known = await RefreshToken.findOne({ token_hash: tokenHash }).lean<RefreshTokenRecord>();
  if (claim.modifiedCount === 1 && known) return known;
  if (known?.revoked_at) await revokeFamily(known.family_id);
  throw invalidRefresh();
}

/**
 * Ends a sign-in. Two steps, in this order: mark every token of the family, then revoke the live ones.
 * A successor stored concurrently is either swept by the second step or sees the mark (see above).
 */
export async function revokeFamily(familyId: string): Promise<void> {
  const now = new Date();
  await RefreshToken.updateMany({ family_id: familyId, family_revoked_at: null }, { $set: { family_revoked_at: now } });
  await RefreshToken.updateMany({ family_id: familyId, revoked_at: null }, { $set: { revoked_at: now } });
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
