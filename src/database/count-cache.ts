import mongoose from 'mongoose';
import { collectionGeneration } from './write-watch';

// X-Total-Count without a full count on every page. countDocuments is a scan of every matching document
// (FerretDB 1.x scans the whole collection), as costly as the page itself, so a total is shared by the
// requests asking for the same filter (one count in flight per filter) and kept for TOTAL_TTL_MS after it
// arrives. Any write this process sends to the collection drops its totals at once (write-watch.ts), so a
// client always sees its own writes in the next total. Writes from other processes (other instances or
// cluster workers) show up within TOTAL_TTL_MS.

export const TOTAL_TTL_MS = 2000;
const MAX_ENTRIES = 1000;

interface Entry {
  generation: number;
  /** When the count arrived; undefined while it is in flight. */
  at?: number;
  value: Promise<number>;
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

/** countDocuments(filter) on `model`, shared and kept as described above. */
export interface CountableModel {
  collection: { collectionName: string };
  countDocuments(filter: never): { exec(): Promise<number> };
}

export function cachedCount(model: CountableModel, filter: object): Promise<number> {
  const collection = model.collection.collectionName;
  const key = `${collection}\u0000${filterKey(filter)}`;
  const generation = collectionGeneration(collection);
  const hit = entries.get(key);
  if (hit && hit.generation === generation && (hit.at === undefined || Date.now() - hit.at < TOTAL_TTL_MS)) return hit.value;

  if (entries.size >= MAX_ENTRIES) entries.clear();
  const entry: Entry = { generation, value: model.countDocuments(filter as never).exec() };
  entries.set(key, entry);
  entry.value.then(
    () => (entry.at = Date.now()),
    () => entries.get(key) === entry && entries.delete(key),
  );
  return entry.value;
}
