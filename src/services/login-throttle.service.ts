import { createHash } from 'node:crypto';
import { config } from '../config/env';
import { LoginAttempt } from '../models/login-attempt.model';
import { AppError } from '../utils/app-error';
import type { PrincipalType } from './token.service';

// Repeated wrong passwords for one account lock it for a while (SPEC §3). Counted per account key, known
// or not, so the lock-out answer reveals nothing about which e-mails exist.

function attemptKey(kind: PrincipalType, email: string): string {
  return createHash('sha256').update(`${kind}:${email.toLowerCase()}`).digest('hex');
}

export async function assertNotLocked(kind: PrincipalType, email: string): Promise<void> {
  const attempt = await LoginAttempt.findById(attemptKey(kind, email)).lean();
  const lockedUntil = attempt?.locked_until;
  if (lockedUntil && lockedUntil.getTime() > Date.now()) {
    throw AppError.tooManyRequests(
      'Too many failed sign-in attempts for this account; try again later',
      (lockedUntil.getTime() - Date.now()) / 1000,
    );
  }
}

export async function recordFailure(kind: PrincipalType, email: string): Promise<void> {
  const key = attemptKey(kind, email);
  const lockMs = config.auth.loginLockSeconds * 1000;
  const attempt = await LoginAttempt.findOneAndUpdate(
    { _id: key },
    { $inc: { failures: 1 }, $set: { expires_at: new Date(Date.now() + lockMs * 2) } },
    { upsert: true, returnDocument: 'after' },
  ).lean();
  if (attempt && attempt.failures >= config.auth.loginMaxFailures) {
    await LoginAttempt.updateOne(
      { _id: key },
      { $set: { failures: 0, locked_until: new Date(Date.now() + lockMs), expires_at: new Date(Date.now() + lockMs * 2) } },
    );
  }
}

export async function clearFailures(kind: PrincipalType, email: string): Promise<void> {
  await LoginAttempt.deleteOne({ _id: attemptKey(kind, email) });
}
