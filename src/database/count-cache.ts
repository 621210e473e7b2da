import mongoose from 'mongoose';
import { collectionGeneration } from './write-watch';

// X-Total-Count without a full count on every page. countDocuments is a scan of every matching document
// (FerretDB 1.x scans the whole collection), as costly as the page itself, so:
// - a total is kept after it arrives for max(TOTAL_TTL_MS, 4 × the time the count took), at most
//   MAX_TOTAL_TTL_MS: a count that is cheap stays fresh; one that is costly is not repeated more often than
//   its cost justifies;
// - any write this process sends to the collection drops its totals at once (write-watch.ts), so a client
//   always sees its own writes in the next total; writes from other processes (other instances or cluster
//   workers) show up within the window above;
// - at most one count per filter runs at a time. A request that needs a newer total than the one in flight
//   waits for one trailing count, started when the current one ends and shared by every request that
//   arrived meanwhile: under a stream of writes, the counts do not pile up.

export const TOTAL_TTL_MS = 2000;
export const MAX_TOTAL_TTL_MS = 30_000;
const MAX_ENTRIES = 1000;

interface Count {
  generation: number;
  value: Promise<number>;
  /** When the count arrived, and how long it took; undefined while it is in flight. */
  at?: number;
  tookMs?: number;
}

interface Entry {
  current: Count;
  /** The trailing count: starts when `current` ends. */
  next?: Promise<number>;
}

const entries = new Map<string, Entry>();

/** A stable key for a filter: ObjectIds, dates and regular expressions keep their type. */
function filterKey(filter: unknown): string {
  return JSON.stringify(filter, function replacer(this: Record<string, unknown>, key: string, value: unknown) {
    const raw = this[key];
    if (raw instanceof mongoose.Types.ObjectId) return { $oid: raw.toHexString() };
    if (raw instanceof Date) return { $date: raw.toISOString() };
    if (raw instanceof RegExp) return { $regex: String(raw) };
    return value;
  });
}

/** How long a total that took `tookMs` to count stays fresh. */
export function totalTtlMs(tookMs: number): number {
  return Math.min(MAX_TOTAL_TTL_MS, Math.max(TOTAL_TTL_MS, 4 * tookMs));
}

/** Any Mongoose model, as far as counting with a filter of its own type goes. */
interface CountableModel<F> {
  collection: { collectionName: string };
  countDocuments(filter: F): { exec(): Promise<number> };
}

function startCount<F extends object>(model: CountableModel<F>, filter: F, key: string, entry: Entry | undefined): Count {
  const generation = collectionGeneration(model.collection.collectionName);
  const started = Date.now();
  const count: Count = { generation, value: model.countDocuments(filter).exec() };
  count.value.then(
    () => {
      count.at = Date.now();
      count.tookMs = count.at - started;
    },
    () => {
      if (entries.get(key)?.current === count) entries.delete(key);
    },
  );
  if (entry) entry.current = count;
  else {
    if (entries.size >= MAX_ENTRIES) entries.clear();
    entries.set(key, { current: count });
  }
  return count;
}

/** countDocuments(filter) on `model`, shared and kept as described above. */
export function cachedCount<F extends object>(model: CountableModel<F>, filter: F): Promise<number> {
  const key = `${model.collection.collectionName}\u0000${filterKey(filter)}`;
  const generation = collectionGeneration(model.collection.collectionName);
  const entry = entries.get(key);
  if (!entry) return startCount(model, filter, key, undefined).value;

  const { current } = entry;
  if (current.at === undefined) {
    if (current.generation === generation) return current.value;
  } else {
    if (current.generation === generation && Date.now() - current.at < totalTtlMs(current.tookMs ?? 0)) return current.value;
    return startCount(model, filter, key, entry).value;
  }

  // A newer total than the one in flight is needed: share the trailing count, started when that one ends
  // (so after every write the waiting requests made).
  entry.next ??= current.value
    .catch(() => undefined)
    .then(() => {
      entry.next = undefined;
      return startCount(model, filter, key, entries.get(key) === entry ? entry : undefined).value;
    });
  return entry.next;
}
