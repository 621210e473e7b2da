import mongoose, { type InferSchemaType, type Types } from 'mongoose';
import { timestamps } from './timestamps';

// Refresh tokens are opaque random strings; only their SHA-256 is stored. Each sign-in starts a family;
// every refresh rotates the token within it. Presenting a rotated (revoked) token again means it was
// stolen or replayed, and the whole family is revoked.
const refreshTokenSchema = new mongoose.Schema(
  {
    token_hash: { type: String, required: true },
    family_id: { type: String, required: true },
    principal_type: { type: String, required: true, enum: ['user', 'customer'] },
    principal_id: { type: mongoose.Schema.Types.ObjectId, required: true },
    token_version: { type: Number, required: true },
    expires_at: { type: Date, required: true },
    // Set when the token is used (rotated) or revoked. Whether a use wins is decided by a claim in
    // token_claims, and a revoked family is marked there too (see token.service).
    revoked_at: { type: Date, default: null },
  },
  { collection: 'refresh_tokens', timestamps, versionKey: false },
);

refreshTokenSchema.index({ token_hash: 1 }, { unique: true });
refreshTokenSchema.index({ family_id: 1 });
refreshTokenSchema.index({ principal_type: 1, principal_id: 1 });
// MongoDB removes expired tokens by itself; expiry is also checked in code, so a server without TTL
// support (FerretDB) stays correct, only larger.
refreshTokenSchema.index({ expires_at: 1 }, { expireAfterSeconds: 0 });

export type RefreshTokenRecord = InferSchemaType<typeof refreshTokenSchema> & { _id: Types.ObjectId };
export const RefreshToken = mongoose.model('RefreshToken', refreshTokenSchema);
