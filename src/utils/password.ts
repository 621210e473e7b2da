import bcrypt from 'bcrypt';
import { config } from '../config/env';

// bcrypt's async API hashes on libuv's thread pool, so sign-ins never block the event loop.

export function hashPassword(password: string): Promise<string> {
  return bcrypt.hash(password, config.auth.bcryptCost);
}

let dummyHash: Promise<string> | undefined;

/**
 * Compares against the real hash, or, for an unknown account, against a throwaway hash of the same cost,
 * so both failures take about the same time and cannot be told apart.
 */
export async function verifyPassword(password: string, hash: string | undefined | null): Promise<boolean> {
  if (hash) return bcrypt.compare(password, hash);
  dummyHash ??= bcrypt.hash('not-a-real-password-just-for-timing', config.auth.bcryptCost);
  await bcrypt.compare(password, await dummyHash);
  return false;
}
