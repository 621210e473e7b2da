import { MongoError } from 'mongodb';
import { outsideTransaction } from '../database/transaction';
import { logger } from '../utils/logger';
import { keyedCustomer, lookupScansCollection, markDuplicates, type KeyedCustomer } from './duplicates.service';

// Marks of likely duplicates for the customer routes' writes (create, sign-up, update), written after the request's
// commit and out of its path (README "Duplicates"). A write queues the customers it committed and answers; one
// flush at a time looks them all up and marks them (duplicates.service.ts markDuplicates), so under load
// concurrent creates share one lookup and one bulkWrite instead of paying two commands each (issue 17: POST fell
// from 0.82 to 0.54 of the bare driver with them in the request). Reads of groups on this instance settle the
// queue first (read-your-writes); other instances see a group once the flush is done, a few ms after the write.
// Where the engine answers the lookup by scanning the collection (FerretDB 1.24: ~2 s at 10k customers, and a
// scan in a burst of creates cost POST a third of its rate), flushes wait for a pause in the writes instead.
// Imports, restores, merges and the start-up backfill batch their own marks and do not come here.

/** A customer waiting for a flush, numbered in the order queued. */
interface Queued {
  customer: KeyedCustomer;
  seq: number;
}
/** Customers waiting for a flush, by id, in the order queued: one queued twice is marked with its latest keys. */
const pending = new Map<string, Queued>();
/** The number of the last customer queued, and of the last one flushed (every one before it is flushed too). */
let queuedSeq = 0;
let flushedSeq = 0;
/** Whether flushes are running or scheduled (one at a time: the next one starts when this one ends). */
let draining = false;
/** The first flush's timer while it waits for FLUSH_DELAY_MS (a read of groups starts it at once instead). */
let scheduled: NodeJS.Timeout | undefined;
/**
 * How long the first customer queued waits for others before the flush starts: under load the creates of these
 * milliseconds share one lookup (at 300 creates/s, about three; flushed on the next turn of the event loop, most
 * batches held one create and the lookups cost POST a command each). Reads of groups do not wait for it.
 */
const FLUSH_DELAY_MS = 10;
/** A flush's time, times this, is the least wait before the next one (see drain). */
const FLUSH_SHARE = 4;
/** Where the lookup scans: how long no customer may have been queued before a flush starts (a pause in writes)… */
const LULL_MS = 1000;
/** …and how long the oldest waits at most, when the writes never pause (other instances see its group this late). */
const MAX_WAIT_MS = 60_000;
/** When the last customer was queued, and when the oldest still pending was (for the waits above). */
let lastQueuedAt = 0;
let backlogSince = 0;
/** settleDuplicateMarks callers, each waiting for the customers queued up to `seq`. */
const settlers: { seq: number; resolve: () => void }[] = [];
/**
 * Customers one flush marks at most (the rest go to the next): a lookup's `$in` and its bound grow with the batch,
 * and a burst of thousands of creates should not make one command of them.
 */
const MAX_BATCH = 500;
/** Where the lookup scans, its cost hardly depends on how many it asks for: one flush takes more. */
const MAX_BATCH_SCANNING = 5000;
/** Ids a failure names at most in its log line. */
const LOGGED_IDS = 20;

/**
 * Queues marks for customers already written and committed, with their current keys and owner, and returns at
 * once: the next flush marks them. Never call it inside a transaction, where the customer may still roll back.
 */
export function queueDuplicateMarks(customers: KeyedCustomer[]): void {
  if (customers.length === 0) return;
  lastQueuedAt = Date.now();
  if (pending.size === 0) backlogSince = lastQueuedAt;
  for (const customer of customers) {
    const id = customer._id.toHexString();
    // Re-inserted at the end: the order stays that of the numbers.
    pending.delete(id);
    pending.set(id, { customer: keyedCustomer(customer), seq: (queuedSeq += 1) });
  }
  if (draining) return;
  draining = true;
  scheduleFlush(FLUSH_DELAY_MS);
}

/** The next flush, in `ms`. Outside any transaction: the caller may run in one (its session ends before then). */
function scheduleFlush(ms: number): void {
  outsideTransaction(() => {
    scheduled = setTimeout(startDrain, ms);
    scheduled.unref();
  });
}

/** Resolves once everything queued before the call has been flushed (marked, or its failure logged). */
export function settleDuplicateMarks(): Promise<void> {
  if (flushedSeq >= queuedSeq) return Promise.resolve();
  if (scheduled) startDrain();
  const seq = queuedSeq;
  return new Promise((resolve) => settlers.push({ seq, resolve }));
}

/** Starts the next flush now, if it is waiting (FLUSH_DELAY_MS, or the pause after a flush). */
function startDrain(): void {
  if (!scheduled) return;
  clearTimeout(scheduled);
  scheduled = undefined;
  // Outside any transaction: settleDuplicateMarks may be called from a request's.
  outsideTransaction(() => void drain());
}

/**
 * One flush of at most MAX_BATCH customers; the next is scheduled if more is pending. Each starts at least
 * FLUSH_DELAY_MS after the write that queued its first customer, so that the writes answering meanwhile (and one
 * request's own customers) share its batch.
 */
async function drain(): Promise<void> {
  const scans = await lookupScansCollection();
  // After the await: a read of groups that started this flush has registered by now, and never waits for a pause.
  if (scans && settlers.length === 0) {
    const now = Date.now();
    const untilLull = lastQueuedAt + LULL_MS - now;
    const untilDue = backlogSince + MAX_WAIT_MS - now;
    if (untilLull > 0 && untilDue > 0) {
      scheduleFlush(Math.min(untilLull, untilDue));
      return;
    }
  }
  const started = Date.now();
  const batch = [...pending.values()].slice(0, scans ? MAX_BATCH_SCANNING : MAX_BATCH);
  for (const { customer } of batch) pending.delete(customer._id.toHexString());
  const customers = batch.map(({ customer }) => customer);
  await markDuplicates(customers).then(
    () => undefined,
    (error: unknown) => logFailure(error, customers),
  );
  // Every customer numbered before the batch's last was in this batch or an earlier one (or queued again since).
  flushedSeq = pending.size === 0 ? queuedSeq : (batch.at(-1)?.seq ?? flushedSeq);
  releaseSettlers();
  if (pending.size === 0) {
    draining = false;
    return;
  }
  // What is left waits for the next pause, or MAX_WAIT_MS from now, where the lookup scans.
  backlogSince = Date.now();
  // The next flush waits FLUSH_SHARE times as long as this one took (at least FLUSH_DELAY_MS), unless a read of
  // groups is waiting: marking takes at most a fifth of the database's time while writes go on.
  scheduleFlush(settlers.length > 0 ? 0 : Math.max(FLUSH_DELAY_MS, FLUSH_SHARE * (Date.now() - started)));
}

function releaseSettlers(): void {
  for (let n = settlers.length - 1; n >= 0; n -= 1) {
    const settler = settlers[n];
    if (settler && settler.seq <= flushedSeq) {
      settlers.splice(n, 1);
      settler.resolve();
    }
  }
}

/**
 * A flush that failed: the customers exist, only their marks are missing, and the group appears at either one's
 * next write (or refreshDuplicateKeys). Logged by name and code only: a write error's message and details quote
 * the marks' keys, which are phone numbers, e-mails and names.
 */
function logFailure(error: unknown, batch: KeyedCustomer[]): void {
  const name = error instanceof Error ? error.name : typeof error;
  const code = error instanceof MongoError ? error.code : undefined;
  logger.warn(
    {
      error: { name, code },
      customers: batch.length,
      ids: batch.slice(0, LOGGED_IDS).map((customer) => customer._id.toHexString()),
    },
    'duplicate marks not written',
  );
}
