import { deflateRawSync, inflateRawSync } from 'node:zlib';
import mongoose from 'mongoose';
import { typedCollection } from '../../database/typed-collection';
import { AnalyticsCounter } from '../../models/analytics-counter.model';

// Counter documents as stored (models/analytics-counter.model.ts): the content is deflated JSON in `z`, so a
// FerretDB scan decodes a few kilobytes per document instead of thousands of fields.

/** A counter document's content: day (or path) → field → count. */
export type CounterContent = Record<string, Record<string, number>>;

/** A counter document: `z` the packed content, `x` the last fold applied to it. */
export interface StoredCounter {
  _id: string;
  /** The entity code */
  e: string;
  z: unknown;
  x?: string;
}

/** The counters collection, typed with the stored shape. */
export const storedCounters = () => typedCollection<StoredCounter>(AnalyticsCounter);

export function packContent(content: CounterContent): mongoose.mongo.Binary {
  return new mongoose.mongo.Binary(deflateRawSync(JSON.stringify(content)));
}

export function unpackContent(packed: unknown): CounterContent {
  const bytes = packed instanceof mongoose.mongo.Binary ? packed.buffer : Buffer.isBuffer(packed) ? packed : undefined;
  if (!bytes) return {};
  const content: unknown = JSON.parse(inflateRawSync(bytes).toString('utf8'));
  if (!isCounterContent(content)) throw new Error('analytics counter document holds malformed content');
  return content;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Whether unpacked JSON has the shape packContent writes: path → field → count. */
function isCounterContent(value: unknown): value is CounterContent {
  if (!isPlainObject(value)) return false;
  for (const fields of Object.values(value)) {
    if (!isPlainObject(fields)) return false;
    for (const count of Object.values(fields)) if (typeof count !== 'number') return false;
  }
  return true;
}

/** Counter documents by id, as stored (missing ones are absent). */
export async function readStoredCounters(ids: readonly string[]): Promise<Map<string, StoredCounter>> {
  const counters = new Map<string, StoredCounter>();
  if (ids.length === 0) return counters;
  // One query: on FerretDB's SQLite backend every query scans the (small) collection.
  const stored = await storedCounters()
    .find({ _id: { $in: [...ids] } })
    .toArray();
  for (const counter of stored) counters.set(counter._id, counter);
  return counters;
}

/** Counter documents by id, unpacked (missing ones are absent). */
export async function readCounters(ids: readonly string[]): Promise<Map<string, CounterContent>> {
  const stored = await readStoredCounters([...new Set(ids)]);
  return new Map([...stored].map(([id, counter]) => [id, unpackContent(counter.z)]));
}

/** Every counter document, unpacked (diagnostics and tests). */
export async function readAllCounters(): Promise<Record<string, CounterContent>> {
  const stored = await storedCounters().find({}).toArray();
  return Object.fromEntries(stored.map((counter) => [counter._id, unpackContent(counter.z)]));
}
