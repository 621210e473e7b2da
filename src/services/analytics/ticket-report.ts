import { ticketPriorities, ticketStatuses } from '../../models/ticket.model';
import type { TicketGrouping, TimeGrouping } from '../../schemas/analytics.schema';
import type { Principal } from '../../utils/principal';
import { Dimension, Entity } from './counter-keys';
import type { PeriodQuery } from './period';
import { groupedReportHeader, openReport, type ReportContext } from './report-context';
import {
  average,
  byCountDesc,
  byTime,
  countsOf,
  isTimeGrouping,
  sumAll,
  sumDimension,
  userNames,
  type FieldCounts,
} from './report-counters';

// Tickets created in the period (by creation day) with the resolutions of the period (by resolution day): per
// time bucket, per status (no resolution figures), per priority or per assignee.

// A type, not an interface: the CSV writer takes rows as string-keyed records.
type TicketRow = {
  key: string | null;
  name?: string | null;
  count: number;
  resolved: number | null;
  average_resolution_seconds: number | null;
};

/** Resolutions by value (priority) or by assignee: how many, and their summed resolution seconds. */
function resolutions(maps: FieldCounts[], user: string | null, by: 'value' | 'user') {
  return {
    count: sumDimension(maps, Dimension.resolvedCount, user, by),
    seconds: sumDimension(maps, Dimension.resolutionSeconds, user, by),
  };
}

/** The resolution columns of one priority or assignee. */
function resolutionColumns(resolved: ReturnType<typeof resolutions>, key: string) {
  const count = resolved.count.get(key) ?? 0;
  return { resolved: count, average_resolution_seconds: average(resolved.seconds.get(key) ?? 0, count) };
}

/** The created and resolved day slices of the period. */
function ticketSlices(context: ReportContext) {
  const created = context.counters.days(Entity.tickets);
  const resolved = context.counters.days(Entity.resolutions);
  return { created, resolved, createdMaps: countsOf(created), resolvedMaps: countsOf(resolved) };
}
type TicketSlices = ReturnType<typeof ticketSlices>;

function rowsByTime({ period, user }: ReportContext, { created, resolved }: TicketSlices, groupBy: TimeGrouping): TicketRow[] {
  const resolvedByTime = byTime(resolved, period, groupBy);
  return [...byTime(created, period, groupBy)].map(([key, maps]) => {
    const resolvedMaps = resolvedByTime.get(key) ?? [];
    const createdCount = sumAll(sumDimension(maps, Dimension.status, user));
    const resolvedCount = sumAll(sumDimension(resolvedMaps, Dimension.resolvedCount, user));
    const resolutionSeconds = sumAll(sumDimension(resolvedMaps, Dimension.resolutionSeconds, user));
    return { key, count: createdCount, resolved: resolvedCount, average_resolution_seconds: average(resolutionSeconds, resolvedCount) };
  });
}

async function rowsByAssignee({ user }: ReportContext, { createdMaps, resolvedMaps }: TicketSlices): Promise<TicketRow[]> {
  const created = sumDimension(createdMaps, Dimension.status, user, 'user');
  const resolved = resolutions(resolvedMaps, user, 'user');
  const counted = (id: string) => (created.get(id) ?? 0) !== 0 || (resolved.count.get(id) ?? 0) !== 0;
  const ids = new Set([...created.keys(), ...resolved.count.keys()].filter(counted));
  const names = await userNames([...ids].filter(Boolean));
  return byCountDesc(
    [...ids].map((id) => ({
      key: id || null,
      name: id ? (names.get(id) ?? null) : null,
      count: created.get(id) ?? 0,
      ...resolutionColumns(resolved, id),
    })),
  );
}

async function ticketRows(context: ReportContext, slices: TicketSlices, groupBy: TicketGrouping): Promise<TicketRow[]> {
  if (isTimeGrouping(groupBy)) return rowsByTime(context, slices, groupBy);
  const { user } = context;
  const { createdMaps, resolvedMaps } = slices;
  if (groupBy === 'status') {
    const counts = sumDimension(createdMaps, Dimension.status, user);
    // A status is the ticket's current one: resolution figures do not apply.
    const noResolution = { resolved: null, average_resolution_seconds: null };
    return ticketStatuses.map((status) => ({ key: status, count: counts.get(status) ?? 0, ...noResolution }));
  }
  if (groupBy === 'priority') {
    const counts = sumDimension(createdMaps, Dimension.priority, user);
    const resolved = resolutions(resolvedMaps, user, 'value');
    return ticketPriorities.map((priority) => ({
      key: priority,
      count: counts.get(priority) ?? 0,
      ...resolutionColumns(resolved, priority),
    }));
  }
  return rowsByAssignee(context, slices);
}

export async function ticketReport(query: PeriodQuery & { group_by: TicketGrouping }, principal: Principal) {
  const context = await openReport(principal, query, { days: [Entity.tickets, Entity.resolutions] });
  const { user } = context;
  const slices = ticketSlices(context);
  const { createdMaps, resolvedMaps } = slices;
  const rows = await ticketRows(context, slices, query.group_by);
  const resolved = sumAll(sumDimension(resolvedMaps, Dimension.resolvedCount, user));
  return {
    ...groupedReportHeader(context, query.group_by),
    total: sumAll(sumDimension(createdMaps, Dimension.status, user)),
    resolved,
    average_resolution_seconds: average(sumAll(sumDimension(resolvedMaps, Dimension.resolutionSeconds, user)), resolved),
    rows,
  };
}
