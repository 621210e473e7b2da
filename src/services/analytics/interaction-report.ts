import { interactionStatuses, interactionTypes } from '../../models/interaction.model';
import type { InteractionGrouping } from '../../schemas/analytics.schema';
import type { Principal } from '../../utils/principal';
import { Dimension, Entity, fieldPrefix } from './counter-keys';
import type { Period, PeriodQuery } from './period';
import { groupedReportHeader, openReport } from './report-context';
import {
  byCountDesc,
  byTime,
  countsOf,
  enumCounts,
  enumRows,
  isTimeGrouping,
  sumAll,
  sumDimension,
  totalOfRows,
  userNames,
  type FieldCounts,
  type Slice,
} from './report-counters';

// Interactions by occurs_at: per time bucket (with the status split), per type, per status or per owner.

// A type, not an interface: the CSV writer takes rows as string-keyed records.
type InteractionRow = {
  key: string | null;
  name?: string | null;
  count: number;
  scheduled?: number;
  completed?: number;
  cancelled?: number;
};

const statusColumns = (maps: FieldCounts[], user: string | null) =>
  enumCounts(interactionStatuses, sumDimension(maps, Dimension.status, user));

/** The status fields of one status only. */
function onlyStatus(counts: FieldCounts, status: string): FieldCounts {
  const prefix = fieldPrefix(Dimension.status, status);
  return Object.fromEntries(Object.entries(counts).filter(([field]) => field.startsWith(prefix)));
}

async function rowsByUser(maps: FieldCounts[], user: string | null): Promise<InteractionRow[]> {
  const counts = sumDimension(maps, Dimension.type, user, 'user');
  // Status split per user in one pass over the counters.
  const statusesByUser = new Map<string, Record<string, number>>();
  for (const status of interactionStatuses) {
    const ofStatus = maps.map((dayCounts) => onlyStatus(dayCounts, status));
    for (const [id, count] of sumDimension(ofStatus, Dimension.status, user, 'user')) {
      statusesByUser.set(id, { ...(statusesByUser.get(id) ?? {}), [status]: count });
    }
  }
  const names = await userNames(counts.keys());
  return byCountDesc(
    [...counts]
      .filter(([, count]) => count !== 0)
      .map(([id, count]) => ({
        key: id,
        name: names.get(id) ?? null,
        count,
        ...enumCounts(interactionStatuses, new Map(Object.entries(statusesByUser.get(id) ?? {}))),
      })),
  );
}

async function interactionRows(
  slices: Slice[],
  period: Period,
  groupBy: InteractionGrouping,
  user: string | null,
): Promise<InteractionRow[]> {
  if (isTimeGrouping(groupBy)) {
    return [...byTime(slices, period, groupBy)].map(([key, maps]) => ({
      key,
      count: sumAll(sumDimension(maps, Dimension.type, user)),
      ...statusColumns(maps, user),
    }));
  }
  const maps = countsOf(slices);
  if (groupBy === 'type') return enumRows(interactionTypes, sumDimension(maps, Dimension.type, user));
  if (groupBy === 'status') return enumRows(interactionStatuses, sumDimension(maps, Dimension.status, user));
  return rowsByUser(maps, user);
}

export async function interactionReport(query: PeriodQuery & { group_by: InteractionGrouping }, principal: Principal) {
  const context = await openReport(principal, query, { days: [Entity.interactions] });
  const slices = context.counters.days(Entity.interactions);
  const rows = await interactionRows(slices, context.period, query.group_by, context.user);
  return { ...groupedReportHeader(context, query.group_by), total: totalOfRows(rows), rows };
}
