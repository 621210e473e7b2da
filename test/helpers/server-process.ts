import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs src/server.ts in a real Node process (through tsx), as `npm start` would run the build. */
export function spawnServer(env: Record<string, string | undefined>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      BCRYPT_COST: '4',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => output, exited };
}

/** Waits for a JSON log line matching `predicate`, or fails after `timeoutMs`. */
export async function waitForLog(
  server: { output: () => string },
  predicate: (line: Record<string, unknown>) => boolean,
  timeoutMs = 20_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const text of server.output().split('\n')) {
      if (!text.startsWith('{')) continue;
      const line = JSON.parse(text) as Record<string, unknown>;
      if (predicate(line)) return line;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`log line not seen within ${timeoutMs} ms; output:\n${server.output()}`);
}

export async function startServer(env: Record<string, string | undefined>): Promise<ServerProcess> {
  const server = spawnServer(env);
  try {
    const listening = await waitForLog(server, (line) => line.msg === 'listening');
    await waitForLog(server, (line) => line.msg === 'ready');
    return { ...server, port: Number(listening.port) };
  } catch (error) {
    // Never leave a process behind that the caller has no handle on.
    server.child.kill('SIGKILL');
    throw error;
  }
}

/** A local port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || !address) throw new Error('no port');
  return address.port;
}

/**
 * Environment in which mongodb-memory-server cannot obtain a mongod, as on a machine offline on first use: an
 * empty download cache, no system binary, and a download URL on a closed local port (no internet involved).
 */
export function unobtainableEmbeddedMongo(port: number): Record<string, string | undefined> {
  return {
    MONGOMS_DOWNLOAD_URL: `https://127.0.0.1:${port}/mongodb-linux-x86_64-debian12-8.2.6.tgz`,
    MONGOMS_DOWNLOAD_DIR: mkdtempSync(path.join(tmpdir(), 'mongoms-')),
    MONGOMS_SYSTEM_BINARY: undefined,
    DATA_DIR: mkdtempSync(path.join(tmpdir(), 'crm-data-')),
  };
}
