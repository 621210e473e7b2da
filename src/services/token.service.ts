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

export async function issueRefreshToken(subject: TokenSubject, familyId: string = randomUUID()): Promise<string> {
  const raw = randomBytes(32).toString('base64url');
  await RefreshToken.create({
    token_hash: hashToken(raw),
    family_id: familyId,
    principal_type: subject.type,
    principal_id: new mongoose.Types.ObjectId(subject.id),
    token_version: subject.tokenVersion,
    expires_at: new Date(Date.now() + config.auth.refreshTokenTtlDays * 86_400_000),
  });
  return raw;
}

const invalidRefresh = () => new AppError(401, 'INVALID_REFRESH_TOKEN', 'Invalid or expired refresh token');

/**
 * Consumes a refresh token: atomically marks it used and returns its record. A token that was already
 * used is a replay: its whole family (that sign-in) is revoked and the call fails.
 */
export async function consumeRefreshToken(raw: string): Promise<RefreshTokenRecord> {
  const now = new Date();
  const tokenHash = hashToken(raw);
  const claimed = await RefreshToken.findOneAndUpdate(
    { token_hash: tokenHash, revoked_at: null },
    { $set: { revoked_at: now } },
    { returnDocument: 'before' },
  ).lean<RefreshTokenRecord>();
  if (!claimed) {
    const known = await RefreshToken.findOne({ token_hash: tokenHash }).lean<RefreshTokenRecord>();
    if (known) await revokeFamily(known.family_id);
    throw invalidRefresh();
  }
  if (claimed.expires_at <= now) throw invalidRefresh();
  return claimed;
}

export async function revokeFamily(familyId: string): Promise<void> {
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
