import { afterAll } from '@jest/globals';
import type { Db } from 'mongodb';
import { createMongoClient } from '../../src/database/connect';
import { dropsDatabases, testMongoUri, uniqueDbName, uriWithDb } from './db';
import { startServer, type ServerProcess } from './server-process';

// What the fault tests share: the real service run as a child process on a database of the test file's own,
// started and restarted as the test needs, with everything it started stopped and the database dropped after
// the file.

export const opsAccount = { email: 'ops@example.com', password: 'operations password' } as const;

export interface ProcessUnderTest {
  dbName: string;
  db: () => Db;
  /** Starts a service process (with `extraEnv` on top of the file's) and gives its base URL. */
  start: (extraEnv?: Record<string, string>) => Promise<{ server: ServerProcess; base: string }>;
  /** SIGKILLs a service process and waits until it is gone. */
  kill: (server: ServerProcess) => Promise<void>;
  /** SIGKILLs every process of this file still running (a failed test may leave one). */
  killAll: () => Promise<void>;
}

export function processUnderTest(prefix: string, extraEnv: Record<string, string> = {}): ProcessUnderTest {
  const dbName = uniqueDbName(prefix);
  const env = {
    MONGODB_URI: uriWithDb(testMongoUri(), dbName),
    ADMIN_EMAIL: opsAccount.email,
    ADMIN_PASSWORD: opsAccount.password,
    JWT_SECRET: 'fault-test-secret-long-enough-for-hs256-0123456789',
    RATE_LIMIT_ENABLED: 'false',
    ...extraEnv,
  };
  const client = createMongoClient(testMongoUri());
  const servers: ServerProcess[] = [];
  const running = () => servers.filter((server) => server.child.exitCode === null && server.child.signalCode === null);
  const kill = async (server: ServerProcess) => {
    server.child.kill('SIGKILL');
    await server.exited;
  };

  afterAll(async () => {
    for (const server of running()) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    if (dropsDatabases())
      await client
        .db(dbName)
        .dropDatabase()
        .catch(() => undefined);
    await client.close();
  });

  return {
    dbName,
    db: () => client.db(dbName),
    async start(more = {}) {
      const server = await startServer({ ...env, ...more });
      servers.push(server);
      return { server, base: `http://127.0.0.1:${server.port}` };
    },
    kill,
    async killAll() {
      for (const server of running()) await kill(server);
    },
  };
}

/** Signs the configured ADMIN in on a service process and gives its token. */
export async function signInOps(base: string): Promise<string> {
  const res = await fetch(`${base}/user/signin`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(opsAccount),
  });
  return String(((await res.json()) as { token: string }).token);
}

/** Probes until `done` holds or `timeoutMs` has passed, and gives the last value (the caller asserts on it). */
export async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
