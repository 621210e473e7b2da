import { mkdir } from 'node:fs/promises';
import path from 'node:path';

// No import of the configuration here: test/global-setup.ts uses this module before any test environment exists.

export interface EmbeddedMongo {
  uri: string;
  stop(): Promise<void>;
}

/** How to run the command without the embedded database, for the message below. */
export interface EmbeddedMongoAdviceFor {
  /** The command the user ran, e.g. `npm start`. */
  command: string;
  /** An example MONGODB_URI for that command. */
  uriExample: string;
}

/** The embedded MongoDB could not start: `message` is what to tell a person, `reason` the library's words. */
export class EmbeddedMongoError extends Error {
  constructor(
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`The embedded MongoDB could not start: ${reason}`, options);
  }
}

/**
 * What failed and the two ways out, in the order a person reads it: the first lines anyone sees when the
 * embedded database cannot start (offline on first use, a blocked download, a binary that does not run here).
 */
export function embeddedMongoAdvice(reason: string, { command, uriExample }: EmbeddedMongoAdviceFor): string {
  return [
    `The embedded MongoDB could not start: ${reason}`,
    `MONGODB_URI is not set, so \`${command}\` runs a MongoDB of its own (mongodb-memory-server), which needs a mongod`,
    'binary: it downloads one on first use (then caches it under ~/.cache/mongodb-binaries). Two ways out:',
    `  1. use a MongoDB 6+ (or FerretDB) server:   MONGODB_URI=${uriExample} ${command}`,
    `  2. use a mongod already on this machine:    MONGOMS_SYSTEM_BINARY=/path/to/mongod ${command}`,
  ].join('\n');
}

/** A library message on one line (download errors span several). */
function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/**
 * Runs `start` with console.warn held back. mongodb-memory-server prints its own warning with a stack trace
 * before it rethrows a failed start ("Starting the MongoMemoryServer Instance failed…"), which would come
 * before our message; on success the held warnings are printed as they would have been.
 */
async function withLibraryWarningsHeld<T>(start: () => Promise<T>): Promise<T> {
  // eslint-disable-next-line no-console -- the library writes to console.warn; nothing else of ours uses it
  const warn = console.warn;
  const held: unknown[][] = [];
  // eslint-disable-next-line no-console -- see above
  console.warn = (...args: unknown[]) => held.push(args);
  try {
    const result = await start();
    for (const args of held) warn(...args);
    return result;
  } finally {
    // eslint-disable-next-line no-console -- see above
    console.warn = warn;
  }
}

/**
 * Starts mongodb-memory-server: on disk under `dataDir` (data survives a restart) or purely temporary.
 * Loaded lazily so that production, which always has MONGODB_URI, never touches it. Throws EmbeddedMongoError.
 */
export async function startEmbeddedMongo(options: { dataDir?: string }): Promise<EmbeddedMongo> {
  try {
    const { MongoMemoryServer } = await import('mongodb-memory-server');
    const dbPath = options.dataDir ? path.resolve(options.dataDir, 'mongo') : undefined;
    if (dbPath) await mkdir(dbPath, { recursive: true });
    const server = await withLibraryWarningsHeld(() =>
      MongoMemoryServer.create({ instance: dbPath ? { dbPath, storageEngine: 'wiredTiger' } : {} }),
    );
    return {
      uri: server.getUri('crm'),
      stop: async () => {
        await server.stop({ doCleanup: !dbPath, force: false });
      },
    };
  } catch (error) {
    throw new EmbeddedMongoError(oneLine(error), { cause: error });
  }
}
