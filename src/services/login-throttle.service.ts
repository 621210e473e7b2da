import { createHash } from 'node:crypto';
import mongoose from 'mongoose';
import { config } from '../config/env';
import { insertedFirst } from '../database/unique-insert';
import { LoginAttempt } from '../models/login-attempt.model';
import { AppError } from '../utils/app-error';
import type { PrincipalType } from './token.service';

// Repeated wrong passwords for one account lock it for a while (SPEC §3). Counted per account key, known
// or not, so the lock-out answer reveals nothing about which e-mails exist.
//
// Under concurrency (SPEC §8) the lock must count every attempt: a password is compared only after the
// request has inserted one of LOGIN_MAX_FAILURES slot documents `<key>:<window>:<slot>` of the account's
// current window — a unique-_id insert, the one write FerretDB 1.x makes atomic between clients (its
// conditional updates and deletes are read-then-write). A wrong password keeps its slot and holds the window
// LOGIN_LOCK_SECONDS from that failure; with every slot taken the account answers 429 until then. A window
// none of whose attempts holds it any more is over, and the next attempt opens the next window; a right
// password closes the window at once. Windows are numbered rather than freed by deleting their slots: on
// FerretDB a conditional delete can remove a slot that another request has just taken again.

/** A window number stays taken this long after its last use, far beyond any request's life. */
const KEEP_MS = 60 * 60 * 1000;

function attemptKey(kind: PrincipalType, email: string): string {
  return createHash('sha256').update(`${kind}:${email.toLowerCase()}`).digest('hex');
}

const lockEnd = (from: Date) => new Date(from.getTime() + config.auth.loginLockSeconds * 1000);
const removalAfter = (until: Date) => new Date(until.getTime() + KEEP_MS);

interface Slot {
  id: string;
  key: string;
  window: number;
}

interface AccountWindow {
  window: number;
  /** The slots (1..LOGIN_MAX_FAILURES) of the window's attempts. */
  taken: Set<number>;
  /** When the window ends: the latest `until` of its attempts. */
  until: Date;
  /** Some older window is past its removal time. */
  stale: boolean;
}

function locked(until: Date): AppError {
  return AppError.tooManyRequests(
    'Too many failed sign-in attempts for this account; try again later',
    (until.getTime() - Date.now()) / 1000,
  );
}

/** The account's current window: the highest number present (0: none yet). */
async function currentWindow(key: string, now: Date): Promise<AccountWindow> {
  const docs = await LoginAttempt.find({ key }).lean();
  const window = docs.reduce((highest, doc) => Math.max(highest, doc.window), 0);
  const attempts = docs.filter((doc) => doc.window === window && doc.slot > 0);
  const until = new Date(Math.max(0, ...attempts.map((doc) => doc.until.getTime())));
  const stale = docs.some((doc) => doc.window < window && doc.expires_at <= now);
  return { window, taken: new Set(attempts.map((doc) => doc.slot)), until, stale };
}

async function insertSlot(key: string, window: number, slot: number, now: Date): Promise<Slot | undefined> {
  const id = `${key}:${window}:${slot}`;
  const until = lockEnd(now);
  const taken = await insertedFirst(() => LoginAttempt.create({ _id: id, key, window, slot, until, expires_at: removalAfter(until) }));
  return taken ? { id, key, window } : undefined;
}

/** Older windows past their removal time, never the current one (its number must stay taken). */
async function removeExpiredWindows(key: string, current: number, now: Date): Promise<void> {
  await LoginAttempt.deleteMany({ key, window: mongoose.trusted({ $lt: current }), expires_at: mongoose.trusted({ $lte: now }) });
}

/**
 * The window's free slots, shuffled: requests arriving together then mostly try different slots first,
 * instead of all racing for slot 1, then 2, … (which, with many at once, ran out of rounds: a 429 with no
 * failure behind it).
 */
function freeSlotsInRandomOrder(taken: ReadonlySet<number>): number[] {
  const free: number[] = [];
  for (let slot = 1; slot <= config.auth.loginMaxFailures; slot += 1) if (!taken.has(slot)) free.push(slot);
  return free
    .map((slot) => ({ slot, order: Math.random() }))
    .sort((a, b) => a.order - b.order)
    .map(({ slot }) => slot);
}

/** Takes one attempt slot for this key, or throws 429 when every slot of the live window is taken. */
async function reserveAttempt(key: string): Promise<Slot> {
  // Bounded: a round ends in a slot, a 429, or every slot it tried taken meanwhile (the next read decides).
  for (let round = 0; round < 5; round += 1) {
    const now = new Date();
    const current = await currentWindow(key, now);
    const live = current.until > now;
    if (live && current.taken.size >= config.auth.loginMaxFailures) throw locked(current.until);
    // Expiry is decided here, from `until`, and old windows removed here too: FerretDB has no TTL monitor.
    if (current.stale) await removeExpiredWindows(key, current.window, now);
    const window = live ? current.window : current.window + 1;
    for (const slot of freeSlotsInRandomOrder(live ? current.taken : new Set())) {
      const taken = await insertSlot(key, window, slot, now);
      if (taken) return taken;
    }
  }
  throw locked(lockEnd(new Date()));
}

/** A wrong password keeps its slot; the window (and the lock, once every slot is taken) runs from now. */
async function recordFailure(slot: Slot): Promise<void> {
  const until = lockEnd(new Date());
  await LoginAttempt.updateOne({ _id: slot.id }, { $set: { until, expires_at: removalAfter(until) } });
}

/**
 * A right password clears the count: it opens the next window, empty, so no attempt of this one counts any
 * more, even a wrong one still being checked. A duplicate means another request closed it first.
 */
async function closeWindow(slot: Slot): Promise<void> {
  const now = new Date();
  const window = slot.window + 1;
  await insertedFirst(() =>
    LoginAttempt.create({
      _id: `${slot.key}:${window}:0`,
      key: slot.key,
      window,
      slot: 0,
      until: now,
      expires_at: removalAfter(lockEnd(now)),
    }),
  );
}

/** Gives back a slot whose check never happened (the database failed meanwhile), so outages lock nobody out. */
async function releaseAttempt(slot: Slot): Promise<void> {
  await LoginAttempt.deleteOne({ _id: slot.id }).catch(() => undefined);
}

/**
 * Runs one password check for an account under the lock-out: reserves a slot first (429 with Retry-After
 * when none is left), then counts a `false` as a failed sign-in and clears the count on `true`. Sign-in
 * and every `current_password` check share this, so they share one count and one lock.
 */
export async function checkPasswordGuarded(kind: PrincipalType, email: string, check: () => Promise<boolean>): Promise<boolean> {
  const slot = await reserveAttempt(attemptKey(kind, email));
  let valid: boolean;
  try {
    valid = await check();
  } catch (error) {
    await releaseAttempt(slot);
    throw error;
  }
  if (valid) await closeWindow(slot);
  else await recordFailure(slot);
  return valid;
}

/** How many attempts count against this account now (0 once its window is over): diagnostics and tests. */
export async function countedAttempts(kind: PrincipalType, email: string): Promise<number> {
  const now = new Date();
  const current = await currentWindow(attemptKey(kind, email), now);
  return current.until > now ? current.taken.size : 0;
}
