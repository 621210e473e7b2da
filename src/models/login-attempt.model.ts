import mongoose from 'mongoose';

// Password checks per account key (a hash of kind + e-mail), one document per attempt slot, so that taking a
// slot is an insert into the unique _id index (see login-throttle.service). Kept for unknown e-mails too, so a
// lock-out cannot reveal whether an account exists.
const loginAttemptSchema = new mongoose.Schema(
  {
    /** `<key>:<window>:<slot>`. Never reused while a request that read the account's slots may still write. */
    _id: { type: String, required: true },
    key: { type: String, required: true },
    /** Numbers the account's lock windows; the highest one present is the current window. */
    window: { type: Number, required: true },
    /** 1..LOGIN_MAX_FAILURES: a check under way or a wrong password; 0: the window was closed by a right one. */
    slot: { type: Number, required: true },
    /** The window is live while one of its attempts is: a reservation or failure holds it LOGIN_LOCK_SECONDS. */
    until: { type: Date, required: true },
    /** Removal, well after `until`: a window's number stays taken until no request can still be using it. */
    expires_at: { type: Date, required: true },
  },
  { collection: 'login_attempts', versionKey: false },
);

loginAttemptSchema.index({ key: 1 });
loginAttemptSchema.index({ expires_at: 1 }, { expireAfterSeconds: 0 });

export const LoginAttempt = mongoose.model('LoginAttempt', loginAttemptSchema);
