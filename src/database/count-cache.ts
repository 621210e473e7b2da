import mongoose from 'mongoose';

// X-Total-Count without a full count on every page. countDocuments is a scan of every matching document
// (FerretDB 1.x scans the whole collection), as costly as the page itself, so a total is shared by the
// requests asking for the same filter (one count in flight per filter) and kept for TOTAL_TTL_MS after it
// arrives. Any write this process sends to the collection (insert, update, delete, findAndModify — seen
// through the driver's command monitoring, so every code path is covered) drops its totals at once, so
// a client always sees its own writes in the next total. Writes from other processes (other instances or
// cluster workers) show up within TOTAL_TTL_MS.

export const TOTAL_TTL_MS = 2000;
const MAX_ENTRIES = 1000;
const writeCommands = new Set(['insert', 'update', 'delete', 'findAndModify']);

interface Entry {
  generation: number;
  /** When the count arrived; undefined while it is in flight. */
  at?: number;
  value: Promise<number>;
}

const generations = new Map<string, number>();
const inFlightWrites = new Map<number, string>();
const entries = new Map<string, Entry>();
const watched = new WeakSet<object>();

function bump(collection: string): void {
  generations.set(collection, (generations.get(collection) ?? 0) + 1);
}

/** Subscribes to the connection's write commands (needs `monitorCommands: true`, set in connect.ts). */
function watchWrites(): void {
  const client = mongoose.connection.getClient();
  if (watched.has(client)) return;
  watched.add(client);
  client.on('commandStarted', (event) => {
    if (!writeCommands.has(event.commandName)) return;
    const collection = String((event.command as Record<string, unknown>)[event.commandName]);
    inFlightWrites.set(event.requestId, collection);
    bump(collection);
  });
  const finished = (event: { requestId: number }) => {
    const collection = inFlightWrites.get(event.requestId);
    if (collection === undefined) return;
    inFlightWrites.delete(event.requestId);
    // A count that ran while the write was in flight may or may not include it: bump again after it.
    bump(collection);
  };
  client.on('commandSucceeded', finished);
  client.on('commandFailed', finished);
}

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
  watchWrites();
  const collection = model.collection.collectionName;
  const key = `${collection}\u0000${filterKey(filter)}`;
  const generation = generations.get(collection) ?? 0;
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
