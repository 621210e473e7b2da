import mongoose, { type InferSchemaType } from 'mongoose';

// Failed sign-ins per account key (a hash of kind + e-mail). Kept for unknown e-mails too, so a lock-out
// cannot reveal whether an account exists.
const loginAttemptSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    failures: { type: Number, required: true, default: 0 },
    locked_until: { type: Date, default: null },
    expires_at: { type: Date, required: true },
  },
  { collection: 'login_attempts', versionKey: false },
);

loginAttemptSchema.index({ expires_at: 1 }, { expireAfterSeconds: 0 });

export type LoginAttemptRecord = InferSchemaType<typeof loginAttemptSchema>;
export const LoginAttempt = mongoose.model('LoginAttempt', loginAttemptSchema);
