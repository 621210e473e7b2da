import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from '@jest/globals';
import mongoose from 'mongoose';
import { config } from '../../src/config/env';
import { connectWithRetry, prepareDatabase } from '../../src/database/connect';
import { markSetupDone } from '../../src/services/health.service';
import { settleDuplicateMarks } from '../../src/services/duplicate-marker.service';
import { createLogger } from '../../src/utils/logger';

export function testMongoUri(): string {
  const uri = process.env.MONGODB_URI;
  // No stack: the message is the whole story (test/global-setup.ts could not start the embedded database).
  const unavailable = process.env.CRM_TEST_DATABASE_UNAVAILABLE;
  if (!uri && unavailable) throw Object.assign(new Error(unavailable), { stack: unavailable });
  if (!uri) throw new Error('MONGODB_URI is not set: test/global-setup.ts should have set it');
  return uri;
}

/** A database name of its own for each test file (and each call), so files can run in parallel. */
export function uniqueDbName(prefix = 'test'): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** The same server URI with another database path. */
export function uriWithDb(uri: string, dbName: string): string {
  const url = new URL(uri);
  url.pathname = `/${dbName}`;
  return url.toString();
}

/**
 * Whether a test drops its database when it ends. TEST_KEEP_DATABASES=1 keeps them (CI does, on a server whose
 * store is thrown away after the run): SecantusDB 0.5.3 can retry a drop for minutes when it meets a write
 * conflict with a transaction that a fault test left open on a connection it cut.
 */
export function dropsDatabases(): boolean {
  return process.env.TEST_KEEP_DATABASES !== '1';
}

/**
 * Connects the default Mongoose connection to a fresh database for this test file, creates indexes, and
 * drops the database afterwards (see dropsDatabases).
 */
export function useTestDatabase(options: { uri?: () => string } = {}): { dbName: string } {
  const handle = { dbName: uniqueDbName() };
  beforeAll(async () => {
    // Retried like the service does, so a busy machine's slow first connection is not a test failure.
    await connectWithRetry(
      options.uri?.() ?? testMongoUri(),
      { timeoutMs: config.db.timeoutMs, dbName: handle.dbName },
      createLogger(undefined, 'silent'),
    );
    // As the service starts: engine features detected (transactions, change streams, TTL), indexes ensured.
    await prepareDatabase(config.db.features);
    markSetupDone();
  });
  afterAll(async () => {
    // Marks the file's last writes queued are written before the database goes, not into a dropped or closed one.
    await settleDuplicateMarks();
    if (dropsDatabases() && mongoose.connection.readyState === mongoose.ConnectionStates.connected) {
      await mongoose.connection.dropDatabase().catch(() => undefined);
    }
    await mongoose.disconnect();
  });
  return handle;
}

export async function clearCollections(): Promise<void> {
  // A flush still running would write marks into the next test's empty collections.
  await settleDuplicateMarks();
  const db = mongoose.connection.db;
  if (!db) return;
  for (const collection of await db.collections()) await collection.deleteMany({});
}

/**
 * Whether the test database is FerretDB, told by the server itself (its buildInfo carries `ferretdbVersion`),
 * never by the response under test: for the few differences the service documents between engines.
 */
export async function isFerretDb(): Promise<boolean> {
  const db = mongoose.connection.db;
  if (!db) throw new Error('isFerretDb() needs the test database connected (useTestDatabase)');
  const info = await db.admin().command({ buildInfo: 1 });
  return typeof info.ferretdbVersion === 'string';
}
