import { customerStatuses } from '../../models/customer.model';
import type { CustomerGrouping } from '../../schemas/analytics.schema';
import type { Principal } from '../../utils/principal';
import { Dimension, Entity } from './counter-keys';
import type { Period, PeriodQuery } from './period';
import { groupedReportHeader, openReport } from './report-context';
import {
  byCountDesc,
  byTime,
  countsOf,
  enumRows,
  isTimeGrouping,
  sumAll,
  sumDimension,
  totalOfRows,
  userNames,
  type Slice,
} from './report-counters';

// Customers created in the period (by creation day): per time bucket, per current status, per company or per
// owner.

// A type, not an interface: the CSV writer takes rows as string-keyed records.
type CustomerRow = {
  key: string | null;
  name?: string | null;
  count: number;
};

async function rowsByOwner(counts: Map<string, number>): Promise<CustomerRow[]> {
  const names = await userNames([...counts.keys()].filter(Boolean));
  return byCountDesc(
    [...counts]
      .filter(([, count]) => count !== 0)
      .map(([id, count]) => ({ key: id || null, name: id ? (names.get(id) ?? null) : null, count })),
  );
}

async function customerRows(slices: Slice[], period: Period, groupBy: CustomerGrouping, user: string | null): Promise<CustomerRow[]> {
  if (isTimeGrouping(groupBy)) {
    return [...byTime(slices, period, groupBy)].map(([key, maps]) => ({ key, count: sumAll(sumDimension(maps, Dimension.status, user)) }));
  }
  const maps = countsOf(slices);
  if (groupBy === 'status') return enumRows(customerStatuses, sumDimension(maps, Dimension.status, user));
  if (groupBy === 'company') {
    const counts = sumDimension(maps, Dimension.company, user);
    return byCountDesc([...counts].filter(([, count]) => count !== 0).map(([company, count]) => ({ key: company || null, count })));
  }
  return rowsByOwner(sumDimension(maps, Dimension.status, user, 'user'));
}

export async function customerReport(query: PeriodQuery & { group_by: CustomerGrouping }, principal: Principal) {
  const context = await openReport(principal, query, { days: [Entity.customers] });
  const slices = context.counters.days(Entity.customers);
  const rows = await customerRows(slices, context.period, query.group_by, context.user);
  return { ...groupedReportHeader(context, query.group_by), total: totalOfRows(rows), rows };
}
