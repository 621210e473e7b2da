import type { MongoMemoryServer } from 'mongodb-memory-server';

declare global {
  var __MONGO_MEMORY_SERVER__: MongoMemoryServer | undefined;
}

/**
 * Tests use MONGODB_URI when it is set (CI runs FerretDB); otherwise one mongodb-memory-server for the run.
 * Each test file then works in a database of its own (see helpers/db.ts), so files run in parallel.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.MONGODB_URI) return;
  const { MongoMemoryServer } = await import('mongodb-memory-server');
  const server = await MongoMemoryServer.create();
  globalThis.__MONGO_MEMORY_SERVER__ = server;
  // Workers are started after global setup and inherit this environment.
  process.env.MONGODB_URI = server.getUri();
  process.env.CRM_TEST_MEMORY_SERVER = '1';
}
