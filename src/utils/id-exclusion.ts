import type { Types } from 'mongoose';

// An ObjectId is its second (4 bytes), a value its process drew at random (5 bytes) and that process's counter
// (3 bytes), and the database orders ids byte by byte. Ids one process made one after another (an import batch's,
// made in one synchronous loop) share their first 9 bytes and count up by one: no other id sorts between the first
// and the last of such a run — one made by this process in between would be in the run, one made by any other has
// other middle bytes, one made in another second another prefix.

/** The bytes an id shares with the ids its process made in the same second. */
const PREFIX_BYTES = 9;

function counterOf(bytes: Uint8Array): number {
  return ((bytes[9] ?? 0) << 16) | ((bytes[10] ?? 0) << 8) | (bytes[11] ?? 0);
}

function followsInRun(previous: Types.ObjectId, next: Types.ObjectId): boolean {
  const a = previous.id;
  const b = next.id;
  for (let n = 0; n < PREFIX_BYTES; n += 1) if (a[n] !== b[n]) return false;
  return counterOf(b) === counterOf(a) + 1;
}

/**
 * An `_id` condition that leaves out these ids: the longest run of ids made one after another as a range, the rest
 * by `$nin`. On an index with `_id` after an equality (the duplicate keys'), a range is two bounds per key, where
 * `$nin` is one per id and per key: for an import batch's thousand ids the lookup costs half as much.
 */
export function excludingIds(ids: readonly Types.ObjectId[]): {
  $nin: Types.ObjectId[];
  $not?: { $gte: Types.ObjectId; $lte: Types.ObjectId };
} {
  const sorted = [...ids].sort((a, b) => Buffer.compare(a.id, b.id));
  let best = { start: 0, end: 0 };
  let start = 0;
  for (let n = 1; n <= sorted.length; n += 1) {
    const previous = sorted[n - 1];
    const next = sorted[n];
    if (previous && next && followsInRun(previous, next)) continue;
    if (n - 1 - start > best.end - best.start) best = { start, end: n - 1 };
    start = n;
  }
  const first = sorted[best.start];
  const last = sorted[best.end];
  if (best.end === best.start || !first || !last) return { $nin: sorted };
  return { $not: { $gte: first, $lte: last }, $nin: [...sorted.slice(0, best.start), ...sorted.slice(best.end + 1)] };
}
