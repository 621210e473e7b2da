import { AsyncLocalStorage } from 'node:async_hooks';
import {
  MongoClientBulkWriteError,
  MongoError,
  MongoServerError,
  type AnyClientBulkWriteModel,
  type ClientSession,
  type Collection,
  type Document,
  type OptionalUnlessRequiredId,
} from 'mongodb';
import mongoose from 'mongoose';
import { engineCapabilities } from './capabilities';
import { isConnectionError } from './errors';
import { countWrite } from './write-watch';

// One request's writes as one unit where the engine has transactions (a replica set: MongoDB, SecantusDB):
// the entity and the outbox, activity and analytics entries it causes commit together or not at all.
// Mongoose operations inside pick the session up by themselves (transactionAsyncLocalStorage); raw driver
// calls take it from `sessionOption()`. Without transactions (FerretDB, a standalone mongod) the same code
// runs as ordered writes: the entity first, then its entries.

mongoose.set('transactionAsyncLocalStorage', true);

/**
 * What a transaction's code shares: its session (Mongoose reads `session` from this store) and, in a
 * transaction that queues its inserts, the inserts waiting to be sent with its commit.
 */
interface UnitOfWork {
  session: ClientSession;
  queued?: QueuedWrite[];
}
type QueuedWrite = { collection: string } & (
  | { name: 'insertOne'; document: Document }
  // An update (queueUpdate), or a key-free check (queueKeyFreeCheck): an update that fails if, and only if, a
  // document holds the key.
  | { name: 'updateOne'; filter: Document; update: Document; keyCheck?: true }
);

// Mongoose reads the session of the transaction in progress from this store (created by the setting above);
// its typings do not declare it.
function isSessionStore(value: unknown): value is AsyncLocalStorage<UnitOfWork> {
  return value instanceof AsyncLocalStorage;
}
const mongooseStore: unknown = Reflect.get(mongoose, 'transactionAsyncLocalStorage');
// One store carries the session, Mongoose's own when it has one: node:async_hooks copies every store into each
// promise created while one is active, and a write request creates hundreds (bench:profile: `_propagate`,
// `promiseInitHook`), so a second store of the same session doubled that work.
const sessions: AsyncLocalStorage<UnitOfWork> = isSessionStore(mongooseStore) ? mongooseStore : new AsyncLocalStorage();

/** The session of the transaction this code runs in, if any. */
export function currentSession(): ClientSession | undefined {
  return sessions.getStore()?.session;
}

/** `{ session }` for a raw driver call inside a transaction; empty outside one. */
export function sessionOption(): { session?: ClientSession } {
  const store = sessions.getStore();
  return store ? { session: store.session } : {};
}

/**
 * Runs `work` (and everything it schedules: timers, promises) outside any transaction, e.g. background work a
 * request hands over, which must not pick up that request's session once it has ended.
 */
export function outsideTransaction<T>(work: () => T): T {
  return sessions.exit(work);
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

export interface TransactionOptions {
  /**
   * The work's inserts made through `insertDocuments` (and updates through `queueUpdate`) are queued and sent
   * together, as one client-level bulkWrite, right before the commit, where the engine has that command in transactions
   * (`clientBulkWrite`): a create and its side entries are then two round trips (the bulkWrite, the commit)
   * instead of three. Only for work that reads nothing it inserted itself.
   */
  queueInserts?: boolean;
}

export async function inTransaction<T>(work: () => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  const capabilities = engineCapabilities();
  if (!capabilities.transactions || sessions.getStore()) return work();
  const queue = options.queueInserts === true && capabilities.clientBulkWrite;
  const deadline = Date.now() + RETRY_BUDGET_MS;
  for (let attempt = 1; ; attempt += 1) {
    const session = await mongoose.startSession();
    let committing = false;
    try {
      session.startTransaction();
      const unit: UnitOfWork = queue ? { session, queued: [] } : { session };
      const result = await sessions.run(unit, work);
      const written = unit.queued ? queuedCollections(unit.queued) : [];
      written.forEach(countWrite);
      if (unit.queued && unit.queued.length > 0) await sendQueued(unit.queued, session);
      committing = true;
      await commit(session);
      written.forEach(countWrite);
      return result;
    } catch (error) {
      if (session.inTransaction()) await session.abortTransaction().catch(() => undefined);
      else if (committing) await endServerTransaction(session);
      if (attempt >= MAX_ATTEMPTS || Date.now() > deadline || !hasLabel(error, 'TransientTransactionError')) throw error;
    } finally {
      await session.endSession().catch(() => undefined);
    }
    await pause(attempt);
  }
}

/**
 * After a refused commit the driver counts the transaction as ended, but the server may still hold it open, with
 * its writes' locks, until its lifetime runs out: a retry of the same write would meet them as write conflicts.
 * Killing the session (mongod's killSessions) aborts it now.
 */
async function endServerTransaction(session: ClientSession): Promise<void> {
  await mongoose.connection.db
    ?.admin()
    .command({ killSessions: [session.id] })
    .catch(() => undefined);
}

/** mongod's error codes: WriteConflict, ImmutableField, DuplicateKey. */
const WRITE_CONFLICT = 112;
const IMMUTABLE_FIELD = 66;
const DUPLICATE_KEY = 11000;

/** The collections queued inserts go to (the write watch counts them: they bypass its Collection methods). */
function queuedCollections(queued: QueuedWrite[]): string[] {
  return [...new Set(queued.map((insert) => insert.collection))];
}

/**
 * The queued inserts as one command. Its errors come out as the server said them: a command that failed as a
 * whole as that error (with its labels: a transient one retries the transaction), a refused insert as a
 * server error with its code (a duplicate key: 11000).
 */
async function sendQueued(queued: QueuedWrite[], session: ClientSession): Promise<void> {
  const database = mongoose.connection.name;
  const models = queued.map((write): AnyClientBulkWriteModel<Document> => {
    const namespace = `${database}.${write.collection}`;
    return write.name === 'insertOne'
      ? { namespace, name: 'insertOne', document: write.document }
      : { namespace, name: 'updateOne', filter: write.filter, update: write.update };
  });
  try {
    await mongoose.connection.getClient().bulkWrite(models, { session, ordered: true });
  } catch (error) {
    if (!(error instanceof MongoClientBulkWriteError)) throw error;
    if (error.cause instanceof MongoServerError) throw error.cause;
    const [[index, refused] = []] = error.writeErrors.entries();
    if (!refused || index === undefined) throw error;
    const write = queued[index];
    if (write?.name === 'updateOne' && write.keyCheck && refused.code === IMMUTABLE_FIELD) {
      // The key is held: refused as a duplicate key, which is what it means (the message names no key: an e-mail).
      throw new MongoServerError({ message: `the key is held in ${write.collection}`, code: DUPLICATE_KEY });
    }
    // A write conflict inside a transaction is transient (mongod labels it so): the transaction starts over.
    const errorLabels = refused.code === WRITE_CONFLICT ? ['TransientTransactionError'] : [];
    throw new MongoServerError({ message: refused.message, errmsg: refused.message, code: refused.code, errorLabels });
  }
}

/**
 * Inserts `documents` into `collection` as part of the code's unit of work: inside a transaction that queues
 * its inserts (`inTransaction(work, { queueInserts: true })`), they go with its commit; otherwise now, in the
 * transaction if there is one.
 */
export async function insertDocuments<T extends Document>(
  collection: Collection<T>,
  documents: OptionalUnlessRequiredId<T>[],
): Promise<void> {
  const queued = sessions.getStore()?.queued;
  const [only, ...more] = documents;
  if (queued) {
    for (const document of documents) queued.push({ collection: collection.collectionName, name: 'insertOne', document });
  } else if (more.length > 0) {
    await collection.insertMany(documents, sessionOption());
  } else if (only) {
    await collection.insertOne(only, sessionOption());
  }
}

/**
 * In a transaction that queues its inserts: queues, ahead of them, a check travelling in the same command that no
 * document of `collection` has `_id: key` — the command fails with a duplicate key otherwise, and the transaction
 * with it. The check is an update that matches only such a document and would change its `_id`, which every engine
 * refuses (ImmutableField): it reads the key and writes nothing (an insert of the key and its delete, as before,
 * were two writes for the database on every create: ~10% of POST /customers, bench:api). Answers false, queuing
 * nothing, elsewhere: the caller checks another way.
 */
export function queueKeyFreeCheck(collection: { collectionName: string }, key: string): boolean {
  const queued = sessions.getStore()?.queued;
  if (!queued) return false;
  queued.push({
    collection: collection.collectionName,
    name: 'updateOne',
    filter: { _id: key },
    update: { $set: { _id: null } },
    keyCheck: true,
  });
  return true;
}

/**
 * In a transaction that queues its inserts: queues an update of one document, sent with them before the commit, and
 * answers true; answers false, queuing nothing, elsewhere (the caller writes another way). Only for an update whose
 * outcome the caller knows without its answer: a document it read in this transaction, whose change is then
 * checked by the engine (a concurrent write makes the transaction conflict and start over).
 */
export function queueUpdate(collection: { collectionName: string }, filter: Document, update: Document): boolean {
  const queued = sessions.getStore()?.queued;
  if (!queued) return false;
  queued.push({ collection: collection.collectionName, name: 'updateOne', filter, update });
  return true;
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
