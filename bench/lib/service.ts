import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';

export const root = path.resolve(__dirname, '../..');

export interface RunningService {
  child: ChildProcess;
  port: number;
  base: string;
  rssMb: () => number;
  /** Where the service's stdout and stderr are written. */
  logFile: string;
  stop: () => Promise<number | null>;
}

/** User + system CPU time of a process so far, in ms (Linux /proc; 0 elsewhere). */
export function cpuTimeMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

/** Resident set size of a process in MB, read from /proc (Linux); `peak`: the highest it has been (VmHWM). */
export function rssMbOf(pid: number, peak = false): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number((peak ? /VmHWM:\s+(\d+)/ : /VmRSS:\s+(\d+)/).exec(status)?.[1] ?? 0);
  return kb / 1024;
}

/**
 * What every bench gives the service under test: its own database, fresh secrets, rate limits and lock-out off.
 * Several instances started with one such environment share their secrets, as a deployment does.
 */
export function benchEnv(dbUri: string, admin?: { email: string; password: string }): Record<string, string> {
  return {
    MONGODB_URI: dbUri,
    JWT_SECRET: randomBytes(32).toString('base64'),
    DATA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    RATE_LIMIT_ENABLED: 'false',
    // The lock-out reserves a slot per password check in flight (src/services/login-throttle.service.ts): the
    // sign-in load below checks one account's right password many times at once, which is not what it is for.
    LOGIN_MAX_FAILURES: '100',
    ...(admin ? { ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password } : {}),
  };
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** The Node options `npm start` gives the service (a tree's package.json), so benches run it as deployed. */
export function startNodeArgsOf(tree: string): string[] {
  const scripts = (JSON.parse(readFileSync(path.join(tree, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const words = (scripts.start ?? '').split(/\s+/);
  return words.slice(words.indexOf('node') + 1, words.indexOf('dist/server.js'));
}

/** This tree's. */
export const startNodeArgs: string[] = startNodeArgsOf(root);

/**
 * Starts the built service (`node` with startNodeArgs, then `nodeArgs`, then dist/server.js) as its own
 * process and waits until /readyz answers 200.
 */
export async function startService(env: Record<string, string>, nodeArgs: string[] = []): Promise<RunningService> {
  const port = await freePort();
  const child = spawn(process.execPath, [...startNodeArgs, ...nodeArgs, 'dist/server.js'], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ...env,
      PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The service's log goes to a file the bench names in its output; the last 20 kB are kept for errors.
  const logFile = path.join(os.tmpdir(), `crm-bench-service-${port}.log`);
  const log = createWriteStream(logFile);
  let output = '';
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on('data', (chunk: Buffer) => {
      log.write(chunk);
      output = (output + chunk.toString()).slice(-20_000);
    });
  }
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`service not ready after 60 s:\n${output}`);
    }
    const ready = await fetch(`${base}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    child,
    port,
    base,
    logFile,
    rssMb: () => rssMbOf(child.pid ?? 0),
    stop: async () => {
      child.kill('SIGTERM');
      return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    },
  };
}

/**
 * Signs the bench ADMIN in and gives its token and user id. Retries for up to 20 s: the service creates the
 * configured ADMIN shortly after it starts listening.
 */
export async function signInAs(base: string, account: { email: string; password: string }): Promise<{ token: string; sub: string }> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const reply = await fetch(`${base}/user/signin`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(account),
    });
    if (reply.status === 200) {
      const { token } = (await reply.json()) as { token: string };
      const payload = Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8');
      return { token, sub: (JSON.parse(payload) as { sub: string }).sub };
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`could not sign in as ${account.email}`);
}
