import { Collection } from 'mongodb';

// A per-collection counter of the writes this process sends (insert, update, replace, delete, bulk write,
// findOneAnd*), counted where every write passes: the driver's Collection methods, which Mongoose models call
// too, so every code path that writes is covered (raw driver or Mongoose, any client of this process).
// Short-lived in-process caches (list totals, the principal behind a token) remember the generation they were
// filled in and are dropped as soon as it moves: this process always sees its own writes. Writes by other
// processes (other instances, cluster workers) are not seen; those caches bound that staleness with a TTL.
//
// This used to be the driver's command monitoring (`monitorCommands`), which also builds an event per command
// and deserialises every reply a second time for it: ~4% of a lookup's CPU on a fast engine (bench:profile).

const writeMethods = [
  'insertOne',
  'insertMany',
  'bulkWrite',
  'updateOne',
  'updateMany',
  'replaceOne',
  'deleteOne',
  'deleteMany',
  'findOneAndUpdate',
  'findOneAndReplace',
  'findOneAndDelete',
] as const;
const generations = new Map<string, number>();
const watched = Symbol.for('crm-api.write-watch');

function bump(collection: string): void {
  generations.set(collection, (generations.get(collection) ?? 0) + 1);
}

function watchWrites(): void {
  const prototype: object = Collection.prototype;
  if (Reflect.get(prototype, watched) === true) return;
  Reflect.set(prototype, watched, true);
  for (const name of writeMethods) {
    const original: unknown = Reflect.get(prototype, name);
    if (typeof original !== 'function') throw new Error(`mongodb Collection.${name} not found: the write watch needs it`);
    const counted = async function (this: Collection, ...args: unknown[]): Promise<unknown> {
      const collection = this.collectionName;
      bump(collection);
      try {
        const result: unknown = await Reflect.apply(original, this, args);
        return result;
      } finally {
        // A read that ran while the write was in flight may or may not include it: move on again after it.
        bump(collection);
      }
    };
    Reflect.set(prototype, name, counted);
  }
}

watchWrites();

/**
 * Counts a write the Collection methods do not see (a client-level bulkWrite): called before it is sent and
 * again once it has been committed.
 */
export function countWrite(collection: string): void {
  bump(collection);
}

/** The current write generation of `collection` in this process. */
export function collectionGeneration(collection: string): number {
  return generations.get(collection) ?? 0;
}
