import { createHash } from 'node:crypto';
import mongoose from 'mongoose';
import { config } from '../config/env';
import { isDuplicateKey } from '../database/errors';
import { LoginAttempt } from '../models/login-attempt.model';
import { AppError } from '../utils/app-error';
import type { PrincipalType } from './token.service';

// Repeated wrong passwords for one account lock it for a while (SPEC §3). Counted per account key, known
// or not, so the lock-out answer reveals nothing about which e-mails exist.
//
// Under concurrency (SPEC §8) the lock must count every attempt: a password is compared only after one of
// LOGIN_MAX_FAILURES slots has been reserved by a conditional update whose modifiedCount decides — atomic
// on every engine, FerretDB included. A wrong password keeps its slot and restarts the window; the right
// one clears the counter. With every slot used the account answers 429 until LOGIN_LOCK_SECONDS after the
// last reservation or failure, so at most LOGIN_MAX_FAILURES wrong passwords are ever checked per window.

function attemptKey(kind: PrincipalType, email: string): string {
  return createHash('sha256').update(`${kind}:${email.toLowerCase()}`).digest('hex');
}

const windowEnd = (from: Date) => new Date(from.getTime() + config.auth.loginLockSeconds * 1000);

function locked(expiresAt: Date): AppError {
  return AppError.tooManyRequests('Too many failed sign-in attempts for this account; try again later', (expiresAt.getTime() - Date.now()) / 1000);
}

/** Takes one attempt slot for this key, or throws 429 when all are taken inside the current window. */
async function reserveAttempt(key: string): Promise<void> {
  // Bounded: each round ends in a slot, a 429, or a document another request created or ended meanwhile.
  for (let round = 0; round < 5; round += 1) {
    const now = new Date();
    // A window that is over starts afresh (TTL removes such documents too, but not on every engine nor at once).
    await LoginAttempt.deleteOne({ _id: key, expires_at: mongoose.trusted({ $lte: now }) });
    const claim = await LoginAttempt.updateOne(
      { _id: key, failures: mongoose.trusted({ $lt: config.auth.loginMaxFailures }) },
      { $inc: { failures: 1 }, $set: { expires_at: windowEnd(now) } },
    );
    if (claim.modifiedCount === 1) return;
    const created = await LoginAttempt.create({ _id: key, failures: 1, expires_at: windowEnd(now) }).then(
      () => true,
      (error: unknown) => {
        if (isDuplicateKey(error)) return false;
        throw error;
      },
    );
    if (created) return;
    const current = await LoginAttempt.findById(key).lean();
    if (current && current.failures >= config.auth.loginMaxFailures && current.expires_at > new Date()) throw locked(current.expires_at);
  }
  throw locked(windowEnd(new Date()));
}

/** A wrong password keeps its slot; the lock (or the window) now runs from this failure. */
async function recordFailure(key: string): Promise<void> {
  await LoginAttempt.updateOne({ _id: key }, { $set: { expires_at: windowEnd(new Date()) } });
}

/** Gives back a slot whose check never happened (the database failed meanwhile), so outages lock nobody out. */
async function releaseAttempt(key: string): Promise<void> {
  await LoginAttempt.updateOne({ _id: key, failures: mongoose.trusted({ $gt: 0 }) }, { $inc: { failures: -1 } }).catch(() => undefined);
}

/**
 * Runs one password check for an account under the lock-out: reserves a slot first (429 with Retry-After
 * when none is left), then counts a `false` as a failed sign-in and clears the counter on `true`. Sign-in
 * and every `current_password` check share this, so they share one counter and one lock.
 */
export async function checkPasswordGuarded(kind: PrincipalType, email: string, check: () => Promise<boolean>): Promise<boolean> {
  const key = attemptKey(kind, email);
  await reserveAttempt(key);
  let valid: boolean;
  try {
    valid = await check();
  } catch (error) {
    await releaseAttempt(key);
    throw error;
  }
  if (valid) await LoginAttempt.deleteOne({ _id: key });
  else await recordFailure(key);
  return valid;
}
