import { AsyncLocalStorage } from 'node:async_hooks';
import { MongoError, type ClientSession } from 'mongodb';
import mongoose from 'mongoose';
import { engineCapabilities } from './capabilities';
import { isConnectionError } from './errors';

// One request's writes as one unit where the engine has transactions (a replica set: MongoDB, SecantusDB):
// the entity and the outbox, activity and analytics entries it causes commit together or not at all.
// Mongoose operations inside pick the session up by themselves (transactionAsyncLocalStorage); raw driver
// calls take it from `sessionOption()`. Without transactions (FerretDB, a standalone mongod) the same code
// runs as ordered writes: the entity first, then its entries.

mongoose.set('transactionAsyncLocalStorage', true);

// Mongoose reads the session of the transaction in progress from this store (created by the setting above);
// its typings do not declare it.
function isSessionStore(value: unknown): value is AsyncLocalStorage<{ session: ClientSession }> {
  return value instanceof AsyncLocalStorage;
}
const mongooseStore: unknown = Reflect.get(mongoose, 'transactionAsyncLocalStorage');
// One store carries the session, Mongoose's own when it has one: node:async_hooks copies every store into each
// promise created while one is active, and a write request creates hundreds (bench:profile: `_propagate`,
// `promiseInitHook`), so a second store of the same session doubled that work.
const sessions: AsyncLocalStorage<{ session: ClientSession }> = isSessionStore(mongooseStore) ? mongooseStore : new AsyncLocalStorage();

/** The session of the transaction this code runs in, if any. */
export function currentSession(): ClientSession | undefined {
  return sessions.getStore()?.session;
}

/** `{ session }` for a raw driver call inside a transaction; empty outside one. */
export function sessionOption(): { session?: ClientSession } {
  const store = sessions.getStore();
  return store ? { session: store.session } : {};
}

// A write conflict with a concurrent transaction is retried, after a short random pause that grows, for
// at most RETRY_BUDGET_MS; an unreachable server is not retried (the request answers 503 within the usual
// timeout rather than after the driver's own withTransaction has retried for two minutes).
const RETRY_BUDGET_MS = 5_000;
const MAX_ATTEMPTS = 50;
function hasLabel(error: unknown, label: string): boolean {
  return error instanceof MongoError && error.hasErrorLabel(label) && !isConnectionError(error);
}

async function commit(session: ClientSession): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await session.commitTransaction();
      return;
    } catch (error) {
      if (attempt >= MAX_ATTEMPTS || !hasLabel(error, 'UnknownTransactionCommitResult')) throw error;
    }
  }
}

/**
 * Runs `work` in a transaction when the engine has them (retried on a transient error such as a write
 * conflict, so `work` must only write to the database), or plainly otherwise. Nested calls join the outer
 * transaction.
 */
function pause(attempt: number): Promise<void> {
  const ceiling = Math.min(250, 5 * 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}

export async function inTransaction<T>(work: () => Promise<T>): Promise<T> {
  if (!engineCapabilities().transactions || sessions.getStore()) return work();
  const deadline = Date.now() + RETRY_BUDGET_MS;
  for (let attempt = 1; ; attempt += 1) {
    const session = await mongoose.startSession();
    try {
      session.startTransaction();
      const result = await sessions.run({ session }, work);
      await commit(session);
      return result;
    } catch (error) {
      if (session.inTransaction()) await session.abortTransaction().catch(() => undefined);
      if (attempt >= MAX_ATTEMPTS || Date.now() > deadline || !hasLabel(error, 'TransientTransactionError')) throw error;
    } finally {
      await session.endSession().catch(() => undefined);
    }
    await pause(attempt);
  }
}

/**
 * Waits for independent steps (the side writes after an entity write: analytics delta, activity entry,
 * notifications), then throws the first failure, if any. Outside a transaction they run together; inside one
 * too where the engine serves a transaction's statements in parallel (`parallelStatements`, probed at start)
 * and the transaction has had its first statement answered (the one that starts it on the server: the session
 * has an operation time), otherwise one after another. Unlike Promise.all it never returns while a step is
 * still running, so a request does not answer (or a shutdown finish) before all of them end.
 */
export async function concurrently(...steps: (() => Promise<unknown>)[]): Promise<void> {
  const store = sessions.getStore();
  if (store && !(engineCapabilities().parallelStatements && store.session.operationTime !== undefined)) {
    for (const step of steps) await step();
    return;
  }
  const results = await Promise.allSettled(steps.map((step) => step()));
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
}
