import { readdirSync } from 'node:fs';
import { access } from 'node:fs/promises';
import os from 'node:os';
import type { Logger } from 'pino';

// bcrypt hashes on libuv's thread pool, so it never blocks the event loop, but on a small machine the pool's
// threads still compete with the event loop for the CPU: 4 threads hashing on 2 cores leave the event loop
// thread a fraction of a core, and /healthz waits for its turn. On Linux the pool threads are lowered to nice
// +10 (a per-thread priority), so the scheduler runs the event loop first and the hashing with what is left.
// The pool starts on first use, possibly while modules load; its threads are the ones that are new since
// this module was loaded (server.ts imports it first).

const POOL_NICE = 10;

function threadIds(): Set<string> {
  return new Set(readdirSync('/proc/self/task'));
}

const startupThreads = process.platform === 'linux' ? threadIds() : new Set<string>();

/** Starts libuv's thread pool now and lowers its threads' priority (Linux only; elsewhere a no-op). */
export async function deprioritiseThreadPool(log: Logger): Promise<number> {
  if (process.platform !== 'linux') return 0;
  try {
    await access('.'); // starts the pool if nothing has yet
    const pool = [...threadIds()].filter((tid) => !startupThreads.has(tid));
    for (const tid of pool) os.setPriority(Number(tid), Math.min(19, os.getPriority(Number(tid)) + POOL_NICE));
    return pool.length;
  } catch (error) {
    log.warn({ err: error }, 'could not lower the thread pool priority');
    return 0;
  }
}
