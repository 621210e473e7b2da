import { customerStatuses } from '../../models/customer.model';
import { interactionStatuses, interactionTypes } from '../../models/interaction.model';
import { ticketPriorities, ticketStatuses } from '../../models/ticket.model';
import type { Principal } from '../../utils/principal';
import { Dimension, Entity } from './counter-keys';
import type { PeriodQuery } from './period';
import { openReport, reportHeader } from './report-context';
import { average, countsOf, enumCounts, sumAll, sumDimension, type LoadedCounters } from './report-counters';

/** Overdue: scheduled follow-ups and tasks whose time (occurs_at) has passed, as of now (to the second). */
function overdue(counters: LoadedCounters, user: string | null, now: Date): { follow_ups: number; tasks: number } {
  const nowSecond = now.toISOString().slice(0, 19);
  const past = counters
    .dues()
    .filter(([second]) => second < nowSecond)
    .map(([, counts]) => counts);
  const byType = sumDimension(past, Dimension.overdue, user);
  return { follow_ups: byType.get('follow_up') ?? 0, tasks: byType.get('task') ?? 0 };
}

/** Customers now and new in the period, interactions and tickets of the period, overdue work now. */
export async function overview(query: PeriodQuery, principal: Principal, now = new Date()) {
  const reads = {
    days: [Entity.customers, Entity.interactions, Entity.tickets, Entity.resolutions],
    totals: [Entity.customers, Entity.interactions, Entity.tickets],
  };
  const context = await openReport(principal, query, reads, { now });
  const { user, counters } = context;
  const sum = (entity: Entity, dimension: Dimension) => sumDimension(countsOf(counters.days(entity)), dimension, user);
  const customersNow = sumDimension([counters.totals(Entity.customers)], Dimension.status, user);
  const newCustomers = sum(Entity.customers, Dimension.status);
  const interactionTypeCounts = sum(Entity.interactions, Dimension.type);
  const ticketStatusCounts = sum(Entity.tickets, Dimension.status);
  const resolved = sumAll(sum(Entity.resolutions, Dimension.resolvedCount));
  return {
    ...reportHeader(context),
    customers: {
      total: sumAll(customersNow),
      by_status: enumCounts(customerStatuses, customersNow),
      new: sumAll(newCustomers),
      new_by_status: enumCounts(customerStatuses, newCustomers),
    },
    interactions: {
      total: sumAll(interactionTypeCounts),
      by_type: enumCounts(interactionTypes, interactionTypeCounts),
      by_status: enumCounts(interactionStatuses, sum(Entity.interactions, Dimension.status)),
    },
    tickets: {
      created: sumAll(ticketStatusCounts),
      by_status: enumCounts(ticketStatuses, ticketStatusCounts),
      by_priority: enumCounts(ticketPriorities, sum(Entity.tickets, Dimension.priority)),
      current_by_status: enumCounts(ticketStatuses, sumDimension([counters.totals(Entity.tickets)], Dimension.status, user)),
      resolved,
      average_resolution_seconds: average(sumAll(sum(Entity.resolutions, Dimension.resolutionSeconds)), resolved),
    },
    overdue: overdue(counters, user, now),
  };
}
export type Overview = Awaited<ReturnType<typeof overview>>;
