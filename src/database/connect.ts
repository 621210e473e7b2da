import os from 'node:os';
import { MongoClient, type MongoClientOptions } from 'mongodb';
import mongoose from 'mongoose';
import type { Logger } from 'pino';
import { detectCapabilities, engineCapabilities, recordTtlSupport, type EngineCapabilities } from './capabilities';

// Global Mongoose behaviour, set before any model is compiled.
// - sanitizeFilter: a `{ "$gt": "" }` that slipped past validation is treated as a literal, never an operator.
// - bufferCommands off: with the database away, a query fails at once (→ 503) instead of waiting forever.
// - autoIndex off: indexes are created once at start by `ensureIndexes`, not lazily per model.
mongoose.set('sanitizeFilter', true);
mongoose.set('strictQuery', true);
mongoose.set('bufferCommands', false);
mongoose.set('autoIndex', false);
mongoose.set('autoCreate', false);

export interface ConnectOptions {
  /** How long an operation waits for a reachable server before failing (→ 503). */
  timeoutMs: number;
  dbName?: string;
}

/**
 * Options every client of ours passes to the driver. The driver loads `os` (for the handshake's client
 * metadata) with a dynamic `import()`; where a runtime cannot run one (Jest's module sandbox, some bundlers)
 * it then sends a handshake without `client.driver`, which `mongod` and SecantusDB refuse ("Missing required
 * sub-document 'driver'"). Handing it the module makes the handshake the same in every runtime.
 */
export const driverRuntime: Pick<MongoClientOptions, 'runtimeAdapters'> = { runtimeAdapters: { os } };

/** A plain driver client (scripts, benchmarks, tests) with the same runtime options as the service's. */
export function createMongoClient(uri: string, options: MongoClientOptions = {}): MongoClient {
  return new MongoClient(uri, { ...driverRuntime, ...options });
}

export async function connectDatabase(uri: string, options: ConnectOptions): Promise<typeof mongoose> {
  return mongoose.connect(uri, {
    ...driverRuntime,
    dbName: options.dbName,
    serverSelectionTimeoutMS: options.timeoutMs,
    // Notice a dead server and a returning one within about a second (the driver's floor is 500 ms).
    heartbeatFrequencyMS: Math.max(500, options.timeoutMs),
    // A stopped server refuses or resets connections at once; this only bounds a slow or silent one, and is
    // generous so that a busy server is not mistaken for a dead one.
    connectTimeoutMS: Math.max(10_000, options.timeoutMs),
  });
}

/** Retries the first connection so the API can start before its database (docker-compose, restarts). */
export async function connectWithRetry(uri: string, options: ConnectOptions, log: Logger, signal?: AbortSignal) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await connectDatabase(uri, options);
    } catch (error) {
      if (signal?.aborted) throw error;
      const delay = Math.min(10_000, 500 * 2 ** Math.min(attempt, 5));
      log.warn({ attempt, delayMs: delay, err: describeDbError(error) }, 'database not reachable yet, retrying');
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

function describeDbError(error: unknown) {
  return error instanceof Error ? { name: error.name, message: error.message } : { message: String(error) };
}

export interface TtlFallback {
  collection: mongoose.Collection;
  field: string;
}

/** TTL indexes the server could not create (FerretDB 1.x): expired documents are swept by `sweepExpired`. */
export const ttlFallbacks: TtlFallback[] = [];

function isTtlUnsupported(error: unknown): boolean {
  return error instanceof mongoose.mongo.MongoServerError && /expireAfterSeconds/.test(error.message);
}

/** Our schemas use plain ascending/descending keys only, which is what FerretDB supports anyway. */
function indexFields(definition: Record<string, unknown>): Record<string, 1 | -1> {
  const fields: Record<string, 1 | -1> = {};
  for (const [key, direction] of Object.entries(definition)) {
    if (direction !== 1 && direction !== -1) throw new Error(`Unsupported index type ${String(direction)} on ${key}`);
    fields[key] = direction;
  }
  return fields;
}

/** Creates every registered model's collection and indexes; run once at start. */
export async function ensureIndexes(): Promise<void> {
  ttlFallbacks.length = 0;
  for (const model of Object.values(mongoose.connection.models)) {
    await model.createCollection().catch((error: unknown) => {
      // 48 = NamespaceExists: another instance (or an earlier start) created it first.
      if (!(error instanceof mongoose.mongo.MongoServerError && error.code === 48)) throw error;
    });
    for (const [definition, schemaOptions] of model.schema.indexes()) {
      const fields = indexFields(definition);
      // Mongoose allows `unique: [true, message]`; the driver wants a boolean.
      const { unique, ...rest } = schemaOptions;
      const options = unique === undefined ? rest : { ...rest, unique: Array.isArray(unique) ? unique[0] : unique };
      try {
        await model.collection.createIndex(fields, options);
      } catch (error) {
        if (!isTtlUnsupported(error)) throw error;
        const { expireAfterSeconds: _ttl, ...plain } = options;
        await model.collection.createIndex(fields, plain);
        ttlFallbacks.push({ collection: model.collection, field: Object.keys(fields)[0] ?? 'expires_at' });
      }
    }
  }
  recordTtlSupport(ttlFallbacks.length === 0);
}

export interface EngineFeatureSwitches {
  /** Off: never use transactions, even where the engine has them. */
  transactions: boolean;
  /** Off: the outbox worker polls, even where the engine has change streams. */
  changeStreams: boolean;
}

/**
 * After connecting: what the engine can do (asked once, here), then every collection and index. Answers the
 * capabilities, TTL support included.
 */
export async function prepareDatabase(switches: EngineFeatureSwitches): Promise<EngineCapabilities> {
  const db = mongoose.connection.db;
  if (!db) throw new Error('prepareDatabase needs a connection');
  await detectCapabilities(db, switches);
  await ensureIndexes();
  return engineCapabilities();
}

/** Deletes documents past their expiry date where the server has no TTL index support. */
export async function sweepExpired(now = new Date()): Promise<number> {
  let removed = 0;
  for (const { collection, field } of ttlFallbacks) {
    const result = await collection.deleteMany({ [field]: { $lt: now } });
    removed += result.deletedCount;
  }
  return removed;
}

// The connection's state as the driver last reported it. Mongoose's `readyState` getter also answers
// "disconnected" when no heartbeat arrived within two heartbeat periods (1 s here): on a busy server that
// is a slow heartbeat, not an outage, and answering 503 for it failed requests under load. The events
// below fire only on real transitions (server unknown, pool closed, reconnected).
let driverConnected = false;
mongoose.connection.on('connected', () => (driverConnected = true));
mongoose.connection.on('disconnected', () => (driverConnected = false));
mongoose.connection.on('close', () => (driverConnected = false));

export function isDatabaseConnected(): boolean {
  return driverConnected;
}

/**
 * Logs the connection's real transitions after the first connection: "lost" when the driver gives the server
 * up (requests answer 503 from then on), "restored" when it answers again. Each outage gives one pair of lines.
 */
export function logConnectionChanges(log: Logger): void {
  let lostAt: number | undefined;
  const lost = () => {
    if (lostAt !== undefined) return;
    lostAt = Date.now();
    log.warn('database connection lost: requests that need it answer 503 until it returns');
  };
  const restored = () => {
    if (lostAt === undefined) return;
    log.info({ outageMs: Date.now() - lostAt }, 'database connection restored');
    lostAt = undefined;
  };
  mongoose.connection.on('disconnected', lost);
  mongoose.connection.on('connected', restored);
  // Closing on purpose (shutdown) is not an outage.
  stopLoggingChanges = () => {
    mongoose.connection.off('disconnected', lost);
    mongoose.connection.off('connected', restored);
  };
}

let stopLoggingChanges = () => {};

export async function pingDatabase(timeoutMs: number): Promise<boolean> {
  const db = mongoose.connection.db;
  if (!db || !isDatabaseConnected()) return false;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const ping = db
    .command({ ping: 1 })
    .then(() => true)
    .catch(() => false);
  try {
    return await Promise.race([ping, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function disconnectDatabase(): Promise<void> {
  stopLoggingChanges();
  await mongoose.disconnect();
}
