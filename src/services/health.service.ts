import { engineCapabilities, type EngineCapabilities } from '../database/capabilities';
import { pingDatabase } from '../database/connect';

const startedAt = Date.now();

// Start-up (src/server.ts) marks this once the database is connected, every index exists (the unique e-mail
// indexes among them), interrupted imports are settled and the configured ADMIN exists: before that a client
// routed on readiness could write before a unique index existed, or fail to sign in as that ADMIN.
let setupDone = false;

export function markSetupDone(): void {
  setupDone = true;
}

export function liveness() {
  return { status: 'ok' as const, uptime_seconds: Math.round((Date.now() - startedAt) / 1000) };
}

export interface Readiness {
  ready: boolean;
  database: 'up' | 'down';
  setup: 'done' | 'pending';
  engine: EngineCapabilities;
}

export async function readiness(timeoutMs: number): Promise<Readiness> {
  const database = (await pingDatabase(timeoutMs)) ? 'up' : 'down';
  const setup = setupDone ? 'done' : 'pending';
  return { ready: database === 'up' && setupDone, database, setup, engine: engineCapabilities() };
}
