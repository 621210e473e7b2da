import mongoose from 'mongoose';

// Single-use decisions about refresh tokens, each made by inserting a unique _id (see token.service):
// `used:<token hash>` — that token has been rotated, by whoever inserted this first; `family:<family id>` —
// that sign-in is revoked. Kept until the token (or the longest-lived token of the family) has expired.
const tokenClaimSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    expires_at: { type: Date, required: true },
  },
  { collection: 'token_claims', versionKey: false },
);

tokenClaimSchema.index({ expires_at: 1 }, { expireAfterSeconds: 0 });

export const TokenClaim = mongoose.model('TokenClaim', tokenClaimSchema);
