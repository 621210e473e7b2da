import mongoose from 'mongoose';
import { customerStatuses } from '../models/customer.model';
import { interactionStatuses, interactionTypes } from '../models/interaction.model';
import { ticketPriorities, ticketStatuses } from '../models/ticket.model';
import { User } from '../models/user.model';
import { timeGroupings, type CustomerGrouping, type InteractionGrouping, type TicketGrouping, type TimeGrouping } from '../schemas/analytics.schema';
import { AppError } from '../utils/app-error';
import { dateBuckets } from '../utils/date-buckets';
import { can, type Principal } from '../utils/principal';
import { counterId, ensureCountersReady, parseField, readCounters, TOTALS } from './analytics-counters.service';

// Analytics (SPEC §3, §5) read the pre-aggregated counters of analytics-counters.service: a period is a list of
// whole UTC days, read from the month documents it touches (one query per request), so a year costs about 13
// small documents per entity whatever the data volume.
//
// Scope: ADMIN and MANAGER see everything; a USER's figures are their own: customers they own, interactions
// they own, tickets assigned to them. Buckets: UTC days (YYYY-MM-DD), ISO 8601 weeks (YYYY-Www, the week-year
// of the week's Thursday) and calendar months (YYYY-MM); edge weeks and months hold only the days in the period.

export const MAX_PERIOD_DAYS = 3660;
const DEFAULT_PERIOD_DAYS = 30;
const DAY_MS = 86_400_000;

export interface PeriodQuery {
  from?: Date;
  to?: Date;
}

export interface Period {
  from: string;
  to: string;
  days: string[];
}

const dayOf = (date: Date) => dateBuckets(date).day;
const dateOfDay = (day: string) => new Date(`${day}T00:00:00.000Z`);

/** The whole UTC days from `from` to `to`, both included; `to` defaults to today, `from` to 29 days before it. */
export function resolvePeriod(query: PeriodQuery, now = new Date()): Period {
  // Checked on the requested dates as day numbers, before any date becomes a day string: a far-off year
  // must not slip past the cap (0001-01-01 to 9999-12-31 once answered 200 with no days).
  const last = Math.floor((query.to ?? now).getTime() / DAY_MS);
  const first = query.from ? Math.floor(query.from.getTime() / DAY_MS) : last - (DEFAULT_PERIOD_DAYS - 1);
  if (first > last) throw AppError.validation([{ location: 'query', field: 'from', message: 'from must not be after to' }]);
  const count = last - first + 1;
  if (count > MAX_PERIOD_DAYS) {
    throw AppError.validation([{ location: 'query', field: 'from', message: `the period may span at most ${MAX_PERIOD_DAYS} days` }]);
  }
  const days: string[] = [];
  for (let day = first; day <= last; day += 1) days.push(dayOf(new Date(day * DAY_MS)));
  return { from: days[0] ?? '', to: days[days.length - 1] ?? '', days };
}

const monthOfDay = (day: string) => day.slice(0, 7);
const weekOfDay = (day: string) => dateBuckets(dateOfDay(day)).week;

/** One UTC day's counters of one entity. */
interface Slice {
  day: string;
  month: string;
  counts: Record<string, number>;
}

/** The counter documents a request needs, read in one query. */
interface Loaded {
  days(entity: string): Slice[];
  totals(entity: string): Record<string, number>;
  /** Scheduled follow-ups and tasks by due second (the interactions' all-time document). */
  dues(): [string, Record<string, number>][];
}

async function load(period: Period, entities: readonly string[], totals: readonly string[]): Promise<Loaded> {
  const months = [...new Set(period.days.map(monthOfDay))];
  const ids = [...entities.flatMap((e) => months.map((month) => counterId(e, month))), ...totals.map((e) => counterId(e, null))];
  const docs = await readCounters(ids);
  return {
    days: (entity) =>
      period.days.map((day) => ({ day, month: monthOfDay(day), counts: docs.get(counterId(entity, monthOfDay(day)))?.[day] ?? {} })),
    totals: (entity) => docs.get(counterId(entity, null))?.[TOTALS] ?? {},
    dues: () =>
      Object.entries(docs.get(counterId('i', null)) ?? {})
        .filter(([path]) => path.startsWith('due|'))
        .map(([path, counts]) => [path.slice(4), counts]),
  };
}

/** The staff user whose figures the caller sees, or null for all. */
function scopeUser(principal: Principal): string | null {
  if (principal.type === 'customer') throw AppError.forbidden();
  return can(principal, 'analytics:read-all') ? null : principal.id;
}

/** Sums one dimension of counter maps: value → n, or user → n with byUser. */
function sumDimension(maps: Iterable<Record<string, number>>, dimension: string, user: string | null, by: 'value' | 'user' = 'value'): Map<string, number> {
  const out = new Map<string, number>();
  for (const counts of maps) {
    for (const [field, n] of Object.entries(counts)) {
      if (!n) continue;
      const parsed = parseField(field);
      if (parsed.dimension !== dimension || (user !== null && parsed.user !== user)) continue;
      const key = by === 'value' ? parsed.value : parsed.user;
      out.set(key, (out.get(key) ?? 0) + n);
    }
  }
  return out;
}

const sumAll = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

function enumCounts<T extends string>(values: readonly T[], counts: Map<string, number>): Record<T, number> {
  return Object.fromEntries(values.map((v) => [v, counts.get(v) ?? 0])) as Record<T, number>;
}

const average = (sum: number, count: number) => (count > 0 ? Math.round(sum / count) : null);

/** Staff user names for ids, in one query. */
async function userNames(ids: Iterable<string>): Promise<Map<string, string>> {
  const valid = [...new Set(ids)].filter((id) => mongoose.isValidObjectId(id) && id.length === 24);
  if (valid.length === 0) return new Map();
  const users = await User.find({ _id: mongoose.trusted({ $in: valid }) }, { name: 1 }).lean<{ _id: mongoose.Types.ObjectId; name: string }[]>();
  return new Map(users.map((u) => [u._id.toHexString(), u.name]));
}

/** Overdue: scheduled follow-ups and tasks whose time (occurs_at) has passed, as of now (to the second). */
function overdue(loaded: Loaded, user: string | null, now: Date): { follow_ups: number; tasks: number } {
  const nowSecond = now.toISOString().slice(0, 19);
  const past = loaded.dues().filter(([second]) => second < nowSecond).map(([, counts]) => counts);
  const counts = sumDimension(past, 'od', user);
  return { follow_ups: counts.get('follow_up') ?? 0, tasks: counts.get('task') ?? 0 };
}

export async function overview(query: PeriodQuery, principal: Principal, now = new Date()) {
  const user = scopeUser(principal);
  const period = resolvePeriod(query, now);
  await ensureCountersReady();
  const loaded = await load(period, ['c', 'i', 't', 'r'], ['c', 'i', 't']);
  const [customerTotals, customerSlices, interactionSlices, ticketSlices, resolvedSlices, ticketTotals] = [
    loaded.totals('c'),
    loaded.days('c'),
    loaded.days('i'),
    loaded.days('t'),
    loaded.days('r'),
    loaded.totals('t'),
  ];
  const overdueNow = overdue(loaded, user, now);
  const counts = (slices: Slice[]) => slices.map((s) => s.counts);
  const customerStatus = sumDimension([customerTotals], 'st', user);
  const newStatus = sumDimension(counts(customerSlices), 'st', user);
  const interactionType = sumDimension(counts(interactionSlices), 'ty', user);
  const interactionStatus = sumDimension(counts(interactionSlices), 'st', user);
  const ticketStatus = sumDimension(counts(ticketSlices), 'st', user);
  const ticketPriority = sumDimension(counts(ticketSlices), 'pr', user);
  const resolved = sumAll(sumDimension(counts(resolvedSlices), 'rn', user));
  const resolutionSum = sumAll(sumDimension(counts(resolvedSlices), 'rs', user));
  return {
    from: period.from,
    to: period.to,
    scope: user ? 'own' : 'all',
    customers: {
      total: sumAll(customerStatus),
      by_status: enumCounts(customerStatuses, customerStatus),
      new: sumAll(newStatus),
      new_by_status: enumCounts(customerStatuses, newStatus),
    },
    interactions: {
      total: sumAll(interactionType),
      by_type: enumCounts(interactionTypes, interactionType),
      by_status: enumCounts(interactionStatuses, interactionStatus),
    },
    tickets: {
      created: sumAll(ticketStatus),
      by_status: enumCounts(ticketStatuses, ticketStatus),
      by_priority: enumCounts(ticketPriorities, ticketPriority),
      current_by_status: enumCounts(ticketStatuses, sumDimension([ticketTotals], 'st', user)),
      resolved,
      average_resolution_seconds: average(resolutionSum, resolved),
    },
    overdue: overdueNow,
  };
}
export type Overview = Awaited<ReturnType<typeof overview>>;

// ---- grouped reports ----

const isTime = (g: string): g is TimeGrouping => (timeGroupings as readonly string[]).includes(g);

/** The zero-filled bucket keys of a period and the bucket of each slice. */
function timeKeys(period: Period, grouping: TimeGrouping): string[] {
  const key = (day: string) => (grouping === 'day' ? day : grouping === 'week' ? weekOfDay(day) : monthOfDay(day));
  return [...new Set(period.days.map(key))];
}
const sliceKey = (slice: Slice, grouping: TimeGrouping) =>
  grouping === 'day' ? slice.day : grouping === 'week' ? weekOfDay(slice.day) : slice.month;

/** Slices grouped by time bucket, every bucket of the period present. */
function byTime(slices: Slice[], period: Period, grouping: TimeGrouping): Map<string, Record<string, number>[]> {
  const out = new Map<string, Record<string, number>[]>(timeKeys(period, grouping).map((k) => [k, []]));
  for (const slice of slices) out.get(sliceKey(slice, grouping))?.push(slice.counts);
  return out;
}

interface ReportMeta {
  from: string;
  to: string;
  scope: 'all' | 'own';
  group_by: string;
}

const meta = (period: Period, user: string | null, groupBy: string): ReportMeta => ({
  from: period.from,
  to: period.to,
  scope: user ? 'own' : 'all',
  group_by: groupBy,
});

function byCountDesc<T extends { key: string | null; count: number }>(rows: T[]): T[] {
  return rows.sort((a, b) => b.count - a.count || String(a.key).localeCompare(String(b.key)));
}

/** The `st` fields of one status. */
function filterStatus(counts: Record<string, number>, status: string): Record<string, number> {
  const prefix = `st:${status}:`;
  return Object.fromEntries(Object.entries(counts).filter(([field]) => field.startsWith(prefix)));
}

export async function interactionReport(query: PeriodQuery & { group_by: InteractionGrouping }, principal: Principal) {
  const user = scopeUser(principal);
  const period = resolvePeriod(query);
  await ensureCountersReady();
  const groupBy = query.group_by;
  const slices = (await load(period, ['i'], [])).days('i');
  const all = slices.map((s) => s.counts);
  const statusColumns = (maps: Record<string, number>[], forUser = user) => enumCounts(interactionStatuses, sumDimension(maps, 'st', forUser));
  let rows: { key: string | null; name?: string | null; count: number; scheduled?: number; completed?: number; cancelled?: number }[];
  if (isTime(groupBy)) {
    rows = [...byTime(slices, period, groupBy)].map(([key, maps]) => ({ key, count: sumAll(sumDimension(maps, 'ty', user)), ...statusColumns(maps) }));
  } else if (groupBy === 'type') {
    const counts = sumDimension(all, 'ty', user);
    rows = interactionTypes.map((type) => ({ key: type, count: counts.get(type) ?? 0 }));
  } else if (groupBy === 'status') {
    const counts = sumDimension(all, 'st', user);
    rows = interactionStatuses.map((status) => ({ key: status, count: counts.get(status) ?? 0 }));
  } else {
    const counts = sumDimension(all, 'ty', user, 'user');
    // Status split per user in one pass over the counters.
    const byUserStatus = new Map<string, Record<string, number>>();
    for (const status of interactionStatuses) {
      for (const [id, n] of sumDimension(all.map((m) => filterStatus(m, status)), 'st', user, 'user')) {
        byUserStatus.set(id, { ...(byUserStatus.get(id) ?? {}), [status]: n });
      }
    }
    const names = await userNames(counts.keys());
    rows = byCountDesc(
      [...counts]
        .filter(([, n]) => n !== 0)
        .map(([id, count]) => ({
          key: id,
          name: names.get(id) ?? null,
          count,
          ...enumCounts(interactionStatuses, new Map(Object.entries(byUserStatus.get(id) ?? {}))),
        })),
    );
  }
  return { ...meta(period, user, groupBy), total: rows.reduce((a, r) => a + r.count, 0), rows };
}

type TicketRow = {
  key: string | null;
  name?: string | null;
  count: number;
  resolved: number | null;
  average_resolution_seconds: number | null;
};

export async function ticketReport(query: PeriodQuery & { group_by: TicketGrouping }, principal: Principal) {
  const user = scopeUser(principal);
  const period = resolvePeriod(query);
  await ensureCountersReady();
  const groupBy = query.group_by;
  const loaded = await load(period, ['t', 'r'], []);
  const [created, resolved] = [loaded.days('t'), loaded.days('r')];
  const createdMaps = created.map((s) => s.counts);
  const resolvedMaps = resolved.map((s) => s.counts);
  const resolution = (maps: Record<string, number>[], by: 'value' | 'user', forUser = user) => ({
    n: sumDimension(maps, 'rn', forUser, by),
    s: sumDimension(maps, 'rs', forUser, by),
  });
  let rows: TicketRow[];
  if (isTime(groupBy)) {
    const createdBy = byTime(created, period, groupBy);
    const resolvedBy = byTime(resolved, period, groupBy);
    rows = [...createdBy].map(([key, maps]) => {
      const r = resolvedBy.get(key) ?? [];
      const n = sumAll(sumDimension(r, 'rn', user));
      return { key, count: sumAll(sumDimension(maps, 'st', user)), resolved: n, average_resolution_seconds: average(sumAll(sumDimension(r, 'rs', user)), n) };
    });
  } else if (groupBy === 'status') {
    const counts = sumDimension(createdMaps, 'st', user);
    rows = ticketStatuses.map((status) => ({ key: status, count: counts.get(status) ?? 0, resolved: null, average_resolution_seconds: null }));
  } else if (groupBy === 'priority') {
    const counts = sumDimension(createdMaps, 'pr', user);
    const r = resolution(resolvedMaps, 'value');
    rows = ticketPriorities.map((priority) => ({
      key: priority,
      count: counts.get(priority) ?? 0,
      resolved: r.n.get(priority) ?? 0,
      average_resolution_seconds: average(r.s.get(priority) ?? 0, r.n.get(priority) ?? 0),
    }));
  } else {
    const counts = sumDimension(createdMaps, 'st', user, 'user');
    const r = resolution(resolvedMaps, 'user');
    const ids = new Set([...counts.keys(), ...r.n.keys()].filter((id) => (counts.get(id) ?? 0) !== 0 || (r.n.get(id) ?? 0) !== 0));
    const names = await userNames([...ids].filter(Boolean));
    rows = byCountDesc(
      [...ids].map((id) => ({
        key: id || null,
        name: id ? (names.get(id) ?? null) : null,
        count: counts.get(id) ?? 0,
        resolved: r.n.get(id) ?? 0,
        average_resolution_seconds: average(r.s.get(id) ?? 0, r.n.get(id) ?? 0),
      })),
    );
  }
  const resolvedTotal = sumAll(sumDimension(resolvedMaps, 'rn', user));
  return {
    ...meta(period, user, groupBy),
    total: sumAll(sumDimension(createdMaps, 'st', user)),
    resolved: resolvedTotal,
    average_resolution_seconds: average(sumAll(sumDimension(resolvedMaps, 'rs', user)), resolvedTotal),
    rows,
  };
}

export async function customerReport(query: PeriodQuery & { group_by: CustomerGrouping }, principal: Principal) {
  const user = scopeUser(principal);
  const period = resolvePeriod(query);
  await ensureCountersReady();
  const groupBy = query.group_by;
  const slices = (await load(period, ['c'], [])).days('c');
  const all = slices.map((s) => s.counts);
  let rows: { key: string | null; name?: string | null; count: number }[];
  if (isTime(groupBy)) {
    rows = [...byTime(slices, period, groupBy)].map(([key, maps]) => ({ key, count: sumAll(sumDimension(maps, 'st', user)) }));
  } else if (groupBy === 'status') {
    const counts = sumDimension(all, 'st', user);
    rows = customerStatuses.map((status) => ({ key: status, count: counts.get(status) ?? 0 }));
  } else if (groupBy === 'company') {
    const counts = sumDimension(all, 'co', user);
    rows = byCountDesc([...counts].filter(([, n]) => n !== 0).map(([company, count]) => ({ key: company || null, count })));
  } else {
    const counts = sumDimension(all, 'st', user, 'user');
    const names = await userNames([...counts.keys()].filter(Boolean));
    rows = byCountDesc(
      [...counts].filter(([, n]) => n !== 0).map(([id, count]) => ({ key: id || null, name: id ? (names.get(id) ?? null) : null, count })),
    );
  }
  return { ...meta(period, user, groupBy), total: rows.reduce((a, r) => a + r.count, 0), rows };
}

/** Per staff user: interactions completed and tickets resolved in the period, and their open workload now. */
export async function userReport(query: PeriodQuery, principal: Principal) {
  if (!can(principal, 'analytics:read-all')) throw AppError.forbidden();
  const period = resolvePeriod(query);
  await ensureCountersReady();
  const [loaded, users] = await Promise.all([
    load(period, ['i', 'r'], ['i', 't']),
    User.find({}, { name: 1, role: 1 }).sort({ name: 1, _id: 1 }).lean<{ _id: mongoose.Types.ObjectId; name: string; role: string }[]>(),
  ]);
  const [interactions, resolved, interactionTotals, ticketTotals] = [loaded.days('i'), loaded.days('r'), loaded.totals('i'), loaded.totals('t')];
  const done = new Map<string, number>();
  const scheduled = new Map<string, number>();
  const openTickets = new Map<string, number>();
  const bump = (m: Map<string, number>, key: string, n: number) => m.set(key, (m.get(key) ?? 0) + n);
  for (const counts of interactions.map((s) => s.counts)) {
    for (const [field, n] of Object.entries(counts)) {
      const f = parseField(field);
      if (f.dimension === 'st' && f.value === 'completed') bump(done, f.user, n);
    }
  }
  for (const [field, n] of Object.entries(interactionTotals)) {
    const f = parseField(field);
    if (f.dimension === 'st' && f.value === 'scheduled') bump(scheduled, f.user, n);
  }
  for (const [field, n] of Object.entries(ticketTotals)) {
    const f = parseField(field);
    if (f.dimension === 'st' && (f.value === 'open' || f.value === 'in_progress')) bump(openTickets, f.user, n);
  }
  const resolvedMaps = resolved.map((s) => s.counts);
  const resolvedN = sumDimension(resolvedMaps, 'rn', null, 'user');
  const resolvedS = sumDimension(resolvedMaps, 'rs', null, 'user');
  const rows = users.map((u) => {
    const id = u._id.toHexString();
    return {
      user_id: id,
      name: u.name,
      role: u.role,
      interactions_done: done.get(id) ?? 0,
      tickets_resolved: resolvedN.get(id) ?? 0,
      average_resolution_seconds: average(resolvedS.get(id) ?? 0, resolvedN.get(id) ?? 0),
      open_tickets: openTickets.get(id) ?? 0,
      scheduled_interactions: scheduled.get(id) ?? 0,
    };
  });
  return { from: period.from, to: period.to, scope: 'all' as const, rows };
}
