import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const root = path.resolve(__dirname, '../..');

export interface RunningService {
  child: ChildProcess;
  port: number;
  base: string;
  rssMb: () => number;
  stop: () => Promise<number | null>;
}

/** Resident set size of a process in MB, read from /proc (Linux). */
export function rssMbOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

/** Starts the built service (dist/server.js) as its own process and waits until it is ready. */
export async function startService(env: Record<string, string>): Promise<RunningService> {
  const child = spawn(process.execPath, ['dist/server.js'], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'development', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /"port":(\d+)/.exec(output);
      if (match) {
        clearInterval(timer);
        resolve(Number(match[1]));
      }
      if (child.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`service exited:\n${output}`));
      }
    }, 50);
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i += 1) {
    const ready = await fetch(`${base}/readyz`).then((r) => r.status === 200, () => false);
    if (ready) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    child,
    port,
    base,
    rssMb: () => rssMbOf(child.pid ?? 0),
    stop: async () => {
      child.kill('SIGTERM');
      return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    },
  };
}
