import mongoose from 'mongoose';

// A per-collection counter of the writes this process sends (insert, update, delete, findAndModify), seen
// through the driver's command monitoring (`monitorCommands: true` in connect.ts), so every code path that
// writes is covered. Short-lived in-process caches (list totals, the principal behind a token) remember the
// generation they were filled in and are dropped as soon as it moves: this process always sees its own writes.
// Writes by other processes (other instances, cluster workers) are not seen; those caches bound that
// staleness with a TTL.

const writeCommands = new Set(['insert', 'update', 'delete', 'findAndModify']);
const generations = new Map<string, number>();
const inFlight = new Map<number, string>();
const watched = new WeakSet<object>();

function bump(collection: string): void {
  generations.set(collection, (generations.get(collection) ?? 0) + 1);
}

function watchWrites(): void {
  const client = mongoose.connection.getClient();
  if (watched.has(client)) return;
  watched.add(client);
  client.on('commandStarted', (event) => {
    if (!writeCommands.has(event.commandName)) return;
    const collection = String(event.command[event.commandName]);
    inFlight.set(event.requestId, collection);
    bump(collection);
  });
  const finished = (event: { requestId: number }) => {
    const collection = inFlight.get(event.requestId);
    if (collection === undefined) return;
    inFlight.delete(event.requestId);
    // A read that ran while the write was in flight may or may not include it: move on again after it.
    bump(collection);
  };
  client.on('commandSucceeded', finished);
  client.on('commandFailed', finished);
}

/** The current write generation of `collection` in this process. */
export function collectionGeneration(collection: string): number {
  watchWrites();
  return generations.get(collection) ?? 0;
}
