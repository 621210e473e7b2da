import { AppError } from '../../utils/app-error';
import { can, type Principal } from '../../utils/principal';
import { ensureCountersReady } from './counter-rebuild';
import { resolvePeriod, type Period, type PeriodQuery } from './period';
import { loadCounters, type CounterReads, type LoadedCounters } from './report-counters';

// Scope: ADMIN and MANAGER see everything; a USER's figures are their own: customers they own, interactions
// they own, tickets assigned to them. Customers see no analytics.

export interface ReportContext {
  /** The staff user whose figures the caller sees, or null for all. */
  user: string | null;
  period: Period;
  counters: LoadedCounters;
}

export interface ReportOptions {
  /** A report over every staff user: ADMIN and MANAGER only (403 for anyone else, whatever their own figures). */
  allUsersOnly?: boolean;
  /** The current time (tests); the default period ends today. */
  now?: Date;
}

function scopeUser(principal: Principal, allUsersOnly: boolean): string | null {
  const readsAll = can(principal, 'analytics:read-all');
  if (allUsersOnly && !readsAll) throw AppError.forbidden();
  if (principal.type === 'customer') throw AppError.forbidden();
  return readsAll ? null : principal.id;
}

/**
 * The preamble of every report, in this order: who may see what (403), the period (400), the counters made
 * current (503 while a long rebuild runs), then the counter documents the report reads, in one query.
 */
export async function openReport(
  principal: Principal,
  query: PeriodQuery,
  reads: CounterReads,
  options: ReportOptions = {},
): Promise<ReportContext> {
  const user = scopeUser(principal, options.allUsersOnly ?? false);
  const period = resolvePeriod(query, options.now);
  await ensureCountersReady();
  return { user, period, counters: await loadCounters(period, reads) };
}

/** The period and scope every report starts with. */
export function reportHeader({ period, user }: ReportContext): { from: string; to: string; scope: 'all' | 'own' } {
  return { from: period.from, to: period.to, scope: user ? 'own' : 'all' };
}

/** The header of a grouped report: period, scope and grouping. */
export function groupedReportHeader<G extends string>(context: ReportContext, groupBy: G) {
  return { ...reportHeader(context), group_by: groupBy };
}
