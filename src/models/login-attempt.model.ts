import mongoose, { type InferSchemaType } from 'mongoose';

// Password checks per account key (a hash of kind + e-mail) in the current window: `failures` counts the
// reserved slots (a check under way or a wrong password), `expires_at` ends the window or the lock. Kept
// for unknown e-mails too, so a lock-out cannot reveal whether an account exists.
const loginAttemptSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    failures: { type: Number, required: true, default: 0 },
    expires_at: { type: Date, required: true },
  },
  { collection: 'login_attempts', versionKey: false },
);

loginAttemptSchema.index({ expires_at: 1 }, { expireAfterSeconds: 0 });

export type LoginAttemptRecord = InferSchemaType<typeof loginAttemptSchema>;
export const LoginAttempt = mongoose.model('LoginAttempt', loginAttemptSchema);
