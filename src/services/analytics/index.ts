// Analytics (SPEC §3, §5): counts and trends read from pre-aggregated counters, never from the raw
// collections (models/analytics-counter.model.ts says why). This file is the capability's only door.
//
// Writes: every create, update and delete of a customer, interaction or ticket records its difference as a
// delta document (counter-changes.ts, contributions.ts); bulk writers pass a batch at once.
// Reads: each report (overview.ts, *-report.ts) starts with one preamble (report-context.ts): scope, period
// (period.ts), counters made current — pending deltas folded in under a claim shared by all instances
// (counter-fold.ts, counter-claim.ts), a rebuild from the raw collections when the counters are missing or
// outdated (counter-rebuild.ts) — then one query for the counter documents (report-counters.ts,
// counter-store.ts). The stored codes are named in counter-keys.ts.

export {
  applyCustomerChanges,
  applyInteractionChanges,
  applyTicketChanges,
  prepareReassignment,
  removed,
  snapshotInteractions,
  snapshotTickets,
} from './counter-changes';
export type { CustomerLike } from './contributions';
export { markCountersStale, rebuildAnalyticsCounters } from './counter-rebuild';

export { overview, type Overview } from './overview';
export { interactionReport } from './interaction-report';
export { ticketReport } from './ticket-report';
export { customerReport } from './customer-report';
export { userReport } from './user-report';
export { resolvePeriod } from './period';

// The stored format, for diagnostics and tests.
export { counterField, parseField } from './counter-keys';
export { readAllCounters } from './counter-store';
