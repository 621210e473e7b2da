import { collectionGeneration } from './write-watch';

// Every authenticated request checks its token against the account's current token version (and, for
// staff, its current role). On FerretDB every lookup is a collection scan, so the answer is kept per account
// for PRINCIPAL_TTL_MS. Any write this process makes to the account's
// collection (role change, password change, sign-out everywhere, deletion) drops the cached answers at once
// (write-watch.ts); a change made by another instance or cluster worker takes effect here within
// PRINCIPAL_TTL_MS. With WEB_CONCURRENCY=1 and one instance, revocation is immediate.

export const PRINCIPAL_TTL_MS = 2000;
const MAX_ENTRIES = 10_000;

export interface AccountState {
  tokenVersion: number;
  role?: string;
}

interface Entry<T> {
  generation: number;
  at: number;
  value: T | null;
}

/**
 * A short-lived cache of one kind of record, keyed by collection and id, dropped when this process writes to
 * that collection and after PRINCIPAL_TTL_MS otherwise. Principals and API keys (one lookup per request each).
 */
export function createRecordCache<T>(): (collection: string, id: string, load: () => Promise<T | null>) => Promise<T | null> {
  const entries = new Map<string, Entry<T>>();
  return async function cachedRecord(collection, id, load) {
    const key = `${collection}:${id}`;
    const generation = collectionGeneration(collection);
    const at = Date.now();
    const hit = entries.get(key);
    if (hit && hit.generation === generation && at - hit.at < PRINCIPAL_TTL_MS) return hit.value;
    // Only answers are shared, never a lookup in flight: one that hangs on a failing database must not hold
    // up the requests that come after it (they fail fast on their own).
    const value = await load();
    if (entries.size >= MAX_ENTRIES) entries.clear();
    entries.set(key, { generation, at, value });
    return value;
  };
}

/** The account's token version (and role), from `load` or from an answer this process got moments ago. */
export const cachedAccountState = createRecordCache<AccountState>();
