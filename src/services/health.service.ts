import { pingDatabase } from '../database/connect';

const startedAt = Date.now();

export function liveness() {
  return { status: 'ok' as const, uptime_seconds: Math.round((Date.now() - startedAt) / 1000) };
}

export async function isReady(timeoutMs: number): Promise<boolean> {
  return pingDatabase(timeoutMs);
}
