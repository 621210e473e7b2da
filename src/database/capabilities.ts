import type { Db } from 'mongodb';

// What the database engine behind MONGODB_URI can do, found out once at start by asking it, never assumed
// from its name. The service uses more where the engine has more — an entity write and the outbox, activity
// and analytics entries it causes commit in one transaction; the outbox worker wakes on a change stream;
// expiry is the server's TTL monitor — and falls back where it has less (FerretDB, a standalone mongod):
// ordered writes, polling, and the service's own sweeper.

export interface EngineCapabilities {
  /** `ferretdb`, `secantusdb` or `mongodb` (anything else that answers like mongod). */
  engine: 'mongodb' | 'ferretdb' | 'secantusdb';
  version: string;
  topology: 'replica-set' | 'sharded' | 'standalone';
  transactions: boolean;
  /**
   * A transaction's statements after its first may be sent together on its session (the engine serves them,
   * rather than refusing the second while the first runs): the side writes of an entity write are then one
   * round trip, not one each.
   */
  parallelStatements: boolean;
  /**
   * MongoDB 8's client-level `bulkWrite` (inserts into several collections in one command) works in a
   * transaction: a create and its side entries go to the server as one command.
   */
  clientBulkWrite: boolean;
  changeStreams: boolean;
  /** Unknown (null) until the indexes are ensured: a TTL index the server refuses means no. */
  ttlIndexes: boolean | null;
}

const undetected: EngineCapabilities = Object.freeze({
  engine: 'mongodb',
  version: 'unknown',
  topology: 'standalone',
  transactions: false,
  parallelStatements: false,
  clientBulkWrite: false,
  changeStreams: false,
  ttlIndexes: null,
});

let current: EngineCapabilities = undetected;

/** The capabilities found at start (before detection: none of the optional ones). */
export function engineCapabilities(): EngineCapabilities {
  return current;
}

export function recordTtlSupport(supported: boolean): void {
  current = Object.freeze({ ...current, ttlIndexes: supported });
}

type Hello = { setName?: unknown; msg?: unknown; logicalSessionTimeoutMinutes?: unknown; maxWireVersion?: unknown };
type BuildInfo = { version?: unknown; ferretdb?: unknown; ferretdbVersion?: unknown; secantusVersion?: unknown };

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

function engineOf(info: BuildInfo): EngineCapabilities['engine'] {
  if (info.ferretdb !== undefined || info.ferretdbVersion !== undefined) return 'ferretdb';
  if (info.secantusVersion !== undefined) return 'secantusdb';
  return 'mongodb';
}

function topologyOf(hello: Hello): EngineCapabilities['topology'] {
  if (hello.msg === 'isdbgrid') return 'sharded';
  return typeof hello.setName === 'string' ? 'replica-set' : 'standalone';
}

/** A read-only transaction: the engine either runs it or says it cannot (standalone, FerretDB). */
async function probeTransactions(db: Db): Promise<boolean> {
  const session = db.client.startSession();
  try {
    await session.withTransaction(async () => {
      await db.collection('system_flags').findOne({}, { session });
    });
    return true;
  } catch {
    return false;
  } finally {
    await session.endSession().catch(() => undefined);
  }
}

/**
 * Read-only transactions whose later statements are sent together, a few times over: the engine either
 * answers every one or it refuses one (then the service sends a transaction's statements one at a time).
 */
async function probeParallelStatements(db: Db): Promise<boolean> {
  const flags = db.collection('system_flags');
  try {
    for (let round = 0; round < 3; round += 1) {
      const session = db.client.startSession();
      try {
        await session.withTransaction(async () => {
          await flags.findOne({}, { session });
          await Promise.all([1, 2, 3].map((n) => flags.findOne({}, { session, skip: n })));
        });
      } finally {
        await session.endSession().catch(() => undefined);
      }
    }
    return true;
  } catch {
    return false;
  }
}

/** Wire version 25 (MongoDB 8.0) brought the client-level bulkWrite. */
const clientBulkWriteWireVersion = 25;

/**
 * A client-level bulkWrite in a transaction, changing nothing (a delete that matches no document), then
 * aborted: the engine either runs it or refuses it.
 */
async function probeClientBulkWrite(db: Db, hello: Hello): Promise<boolean> {
  if (typeof hello.maxWireVersion !== 'number' || hello.maxWireVersion < clientBulkWriteWireVersion) return false;
  const session = db.client.startSession();
  try {
    session.startTransaction();
    const namespace = `${db.databaseName}.system_flags`;
    await db.client.bulkWrite([{ namespace, name: 'deleteOne', filter: { probe: 'client-bulk-write' } }], { session });
    await session.abortTransaction();
    return true;
  } catch {
    return false;
  } finally {
    await session.endSession().catch(() => undefined);
  }
}

async function probeChangeStreams(db: Db): Promise<boolean> {
  const stream = db.collection('system_flags').watch([], { maxAwaitTimeMS: 1 });
  try {
    await stream.tryNext();
    return true;
  } catch {
    return false;
  } finally {
    await stream.close().catch(() => undefined);
  }
}

/** Asks the engine what it is and tries what it claims: a transaction and a change stream. */
export async function detectCapabilities(db: Db, options: { transactions: boolean; changeStreams: boolean }): Promise<EngineCapabilities> {
  const admin = db.admin();
  // Every field is `unknown` to these types and checked where it is read.
  const [hello, info]: [Hello, BuildInfo] = await Promise.all([admin.command({ hello: 1 }), admin.command({ buildInfo: 1 })]);
  const topology = topologyOf(hello);
  const sessions = hello.logicalSessionTimeoutMinutes !== undefined && topology !== 'standalone';
  const transactions = options.transactions && sessions && (await probeTransactions(db));
  current = Object.freeze({
    engine: engineOf(info),
    version: text(info.ferretdbVersion) ?? text(info.secantusVersion) ?? text(info.version) ?? 'unknown',
    topology,
    transactions,
    parallelStatements: transactions && (await probeParallelStatements(db)),
    clientBulkWrite: transactions && (await probeClientBulkWrite(db, hello)),
    changeStreams: options.changeStreams && topology !== 'standalone' && (await probeChangeStreams(db)),
    ttlIndexes: current.ttlIndexes,
  });
  return current;
}
