import { embeddedMongoAdvice, EmbeddedMongoError, startEmbeddedMongo, type EmbeddedMongo } from '../src/database/embedded-mongo';

declare global {
  var __EMBEDDED_MONGO__: EmbeddedMongo | undefined;
}

/**
 * Tests use MONGODB_URI when it is set (CI runs SecantusDB and FerretDB); otherwise one mongodb-memory-server for
 * the run. Each test file then works in a database of its own (see helpers/db.ts), so files run in parallel.
 *
 * When the embedded database cannot start (offline on first use), the run goes on: tests that need no database
 * (test/unit) run and pass, the others fail with the same message, printed here first (helpers/db.ts).
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.MONGODB_URI) return;
  try {
    const embedded = await startEmbeddedMongo({});
    globalThis.__EMBEDDED_MONGO__ = embedded;
    // Workers are started after global setup and inherit this environment.
    process.env.MONGODB_URI = embedded.uri;
  } catch (error) {
    if (!(error instanceof EmbeddedMongoError)) throw error;
    const advice = embeddedMongoAdvice(error.reason, { command: 'npm test', uriExample: 'mongodb://127.0.0.1:27017/' });
    process.env.CRM_TEST_DATABASE_UNAVAILABLE = advice;
    process.stderr.write(`\n${advice}\nTests that need no database still run; the others fail with this message.\n\n`);
  }
}
