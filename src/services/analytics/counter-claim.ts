import { withClaim, type ClaimDocument } from '../../database/claim';
import { typedCollection } from '../../database/typed-collection';
import { AnalyticsState } from '../../models/analytics-counter.model';
import { AppError } from '../../utils/app-error';

// One folder or rebuilder of the counters at a time, across instances: the `rebuild-lock` claim in
// analytics_state (database/claim.ts).

const LOCK_ID = 'rebuild-lock';
/** A claim not refreshed (heartbeat every LOCK_HEARTBEAT_MS) for this long is taken to be from a crashed instance. */
const LOCK_STALE_MS = 60_000;
const LOCK_HEARTBEAT_MS = 5_000;

export const rebuildingError = () =>
  new AppError(503, 'ANALYTICS_REBUILDING', 'Analytics are being prepared; retry shortly', [], { 'Retry-After': '30' });

/** Runs `work` holding the counters claim; waits at most `maxWaitMs` for it (503 ANALYTICS_REBUILDING after). */
export function withCountersClaim<T>(work: () => Promise<T>, maxWaitMs: number): Promise<T> {
  const options = {
    collection: typedCollection<ClaimDocument>(AnalyticsState),
    id: LOCK_ID,
    maxWaitMs,
    staleMs: LOCK_STALE_MS,
    heartbeatMs: LOCK_HEARTBEAT_MS,
    onTimeout: rebuildingError,
  };
  return withClaim(options, work);
}
