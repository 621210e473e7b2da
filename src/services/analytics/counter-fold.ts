import mongoose from 'mongoose';
import { typedCollection } from '../../database/typed-collection';
import { AnalyticsDelta, type AnalyticsDeltaEntry } from '../../models/analytics-counter.model';
import { withCountersClaim } from './counter-claim';
import { packContent, readStoredCounters, storedCounters, unpackContent, type CounterContent, type StoredCounter } from './counter-store';

// Folding pending deltas into the counters. Writers only insert delta documents (atomic everywhere; FerretDB
// runs `$inc` as a read-modify-write that loses concurrent increments); before a read, the holder of the
// counters claim marks the pending deltas with a fold id, adds them into their counter documents and deletes
// them. Delta documents are `{ u: entries, x: fold id (absent while pending) }`.

/** An analytics request waits this long for the counters claim before answering 503 (the work goes on). */
export const REBUILD_WAIT_MS = 20_000;
/** Counter documents replaced per bulk write. */
const WRITE_BATCH = 50;

/** A delta document as stored. */
interface StoredDelta {
  u?: AnalyticsDeltaEntry[];
  /** The fold that claimed it (absent while pending) */
  x?: string;
}

const storedDeltas = () => typedCollection<StoredDelta>(AnalyticsDelta);

/** The delta entries of each counter document. */
function entriesByCounter(deltas: StoredDelta[]) {
  const byCounter = new Map<string, { entity: string; entries: AnalyticsDeltaEntry[] }>();
  for (const delta of deltas) {
    for (const entry of delta.u ?? []) {
      const counter = byCounter.get(entry.id) ?? { entity: entry.e, entries: [] };
      counter.entries.push(entry);
      byCounter.set(entry.id, counter);
    }
  }
  return byCounter;
}

/** Adds delta entries into a counter document's content, dropping fields and paths that reach zero. */
function addEntries(content: CounterContent, entries: readonly AnalyticsDeltaEntry[]): void {
  for (const entry of entries) {
    const fields = (content[entry.p] ??= {});
    for (const [field, increment] of Object.entries(entry.f)) {
      const value = (fields[field] ?? 0) + increment;
      if (value === 0) delete fields[field];
      else fields[field] = value;
    }
    if (Object.keys(fields).length === 0) delete content[entry.p];
  }
}

/**
 * Adds the deltas marked `fold` into their counter documents. Each document records the fold it last took,
 * so a fold interrupted by a crash and redone never adds a delta twice; the deltas are deleted last.
 */
async function foldMarked(fold: string): Promise<void> {
  const deltas = storedDeltas();
  const marked = await deltas.find({ x: fold }).toArray();
  if (marked.length === 0) return;
  const byCounter = entriesByCounter(marked);
  const stored = await readStoredCounters([...byCounter.keys()]);
  const writes: mongoose.mongo.AnyBulkWriteOperation<StoredCounter>[] = [];
  for (const [id, { entity, entries }] of byCounter) {
    const counter = stored.get(id);
    if (counter?.x === fold) continue;
    const content = counter ? unpackContent(counter.z) : {};
    addEntries(content, entries);
    const replacement = { e: entity, z: packContent(content), x: fold };
    writes.push({ replaceOne: { filter: { _id: id }, replacement, upsert: true } });
  }
  // Only the claim holder writes counter documents, so these read-modify-writes cannot race.
  for (let start = 0; start < writes.length; start += WRITE_BATCH) {
    await storedCounters().bulkWrite(writes.slice(start, start + WRITE_BATCH));
  }
  await deltas.deleteMany({ x: fold });
}

/** Folds every pending delta into the counters (a no-op costing one small query when there is none). */
export async function foldPendingDeltas(maxWaitMs = REBUILD_WAIT_MS): Promise<void> {
  const deltas = storedDeltas();
  if (!(await deltas.findOne({}, { projection: { _id: 1 } }))) return;
  await withCountersClaim(async () => {
    // A fold interrupted by a crash first, then everything pending now.
    for (;;) {
      const interrupted = await deltas.findOne({ x: { $exists: true } }, { projection: { x: 1 } });
      if (!interrupted) break;
      await foldMarked(String(interrupted.x));
    }
    const fold = new mongoose.Types.ObjectId().toHexString();
    await deltas.updateMany({ x: { $exists: false } }, { $set: { x: fold } });
    await foldMarked(fold);
  }, maxWaitMs);
}
