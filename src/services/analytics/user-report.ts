import type mongoose from 'mongoose';
import { User } from '../../models/user.model';
import type { Principal } from '../../utils/principal';
import { Dimension, Entity, parseField } from './counter-keys';
import type { PeriodQuery } from './period';
import { openReport, reportHeader } from './report-context';
import { average, countsOf, sumDimension, type FieldCounts } from './report-counters';

// Per staff user (ADMIN and MANAGER only): interactions completed and tickets resolved in the period, and
// their open workload now.

interface StaffUser {
  _id: mongoose.Types.ObjectId;
  name: string;
  role: string;
}

/** Counts of the status fields whose status is one of `statuses`, by staff user. */
function byUserWithStatus(maps: Iterable<FieldCounts>, statuses: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const fieldCounts of maps) {
    for (const [field, count] of Object.entries(fieldCounts)) {
      const parsed = parseField(field);
      if (parsed.dimension !== Dimension.status || !statuses.includes(parsed.value)) continue;
      counts.set(parsed.user, (counts.get(parsed.user) ?? 0) + count);
    }
  }
  return counts;
}

export async function userReport(query: PeriodQuery, principal: Principal) {
  const reads = { days: [Entity.interactions, Entity.resolutions], totals: [Entity.interactions, Entity.tickets] };
  const context = await openReport(principal, query, reads, { allUsersOnly: true });
  const { counters } = context;
  const users = await User.find({}, { name: 1, role: 1 }).sort({ name: 1, _id: 1 }).lean<StaffUser[]>();
  const done = byUserWithStatus(countsOf(counters.days(Entity.interactions)), ['completed']);
  const scheduled = byUserWithStatus([counters.totals(Entity.interactions)], ['scheduled']);
  const openTickets = byUserWithStatus([counters.totals(Entity.tickets)], ['open', 'in_progress']);
  const resolvedMaps = countsOf(counters.days(Entity.resolutions));
  const resolvedCount = sumDimension(resolvedMaps, Dimension.resolvedCount, null, 'user');
  const resolutionSeconds = sumDimension(resolvedMaps, Dimension.resolutionSeconds, null, 'user');
  const rows = users.map((user) => {
    const id = user._id.toHexString();
    return {
      user_id: id,
      name: user.name,
      role: user.role,
      interactions_done: done.get(id) ?? 0,
      tickets_resolved: resolvedCount.get(id) ?? 0,
      average_resolution_seconds: average(resolutionSeconds.get(id) ?? 0, resolvedCount.get(id) ?? 0),
      open_tickets: openTickets.get(id) ?? 0,
      scheduled_interactions: scheduled.get(id) ?? 0,
    };
  });
  return { ...reportHeader(context), rows };
}
