import mongoose from 'mongoose';
import { User } from '../../models/user.model';
import { recordFromKeys } from '../../utils/record-from-keys';
import { timeGroupings, type TimeGrouping } from '../../schemas/analytics.schema';
import { counterId, DUE_PREFIX, Entity, parseField, TOTALS, type Dimension } from './counter-keys';
import { readCounters } from './counter-store';
import { monthOfDay, weekOfDay, type Period } from './period';

// What the reports compute with: the counter documents of a period, read in one query (a period reads the
// month documents it touches, so a year costs about 13 small documents per entity whatever the data volume),
// and sums over their fields.

/** Counts by counter field. */
export type FieldCounts = Record<string, number>;

/** One UTC day's counters of one entity. */
export interface Slice {
  day: string;
  counts: FieldCounts;
}

/** The counter documents a report needs. */
export interface LoadedCounters {
  days(entity: Entity): Slice[];
  totals(entity: Entity): FieldCounts;
  /** Scheduled follow-ups and tasks by due second (the interactions' all-time document). */
  dues(): [string, FieldCounts][];
}

/** Which counters a report reads: day slices of some entities, all-time totals of others. */
export interface CounterReads {
  days: readonly Entity[];
  totals?: readonly Entity[];
}

export async function loadCounters(period: Period, reads: CounterReads): Promise<LoadedCounters> {
  const months = [...new Set(period.days.map(monthOfDay))];
  const monthIds = reads.days.flatMap((entity) => months.map((month) => counterId(entity, month)));
  const allTimeIds = (reads.totals ?? []).map((entity) => counterId(entity, null));
  const ids = [...monthIds, ...allTimeIds];
  const counters = await readCounters(ids);
  return {
    days: (entity) => period.days.map((day) => ({ day, counts: counters.get(counterId(entity, monthOfDay(day)))?.[day] ?? {} })),
    totals: (entity) => counters.get(counterId(entity, null))?.[TOTALS] ?? {},
    dues: () =>
      Object.entries(counters.get(counterId(Entity.interactions, null)) ?? {})
        .filter(([path]) => path.startsWith(DUE_PREFIX))
        .map(([path, counts]) => [path.slice(DUE_PREFIX.length), counts]),
  };
}

export const countsOf = (slices: readonly Slice[]) => slices.map((slice) => slice.counts);

/** Sums one dimension of counter maps, by value (or by staff user), for one user's fields or (null) all. */
export function sumDimension(
  maps: Iterable<FieldCounts>,
  dimension: Dimension,
  user: string | null,
  by: 'value' | 'user' = 'value',
): Map<string, number> {
  const sums = new Map<string, number>();
  for (const counts of maps) {
    for (const [field, count] of Object.entries(counts)) {
      if (!count) continue;
      const parsed = parseField(field);
      if (parsed.dimension !== dimension || (user !== null && parsed.user !== user)) continue;
      const key = by === 'value' ? parsed.value : parsed.user;
      sums.set(key, (sums.get(key) ?? 0) + count);
    }
  }
  return sums;
}

export const sumAll = (sums: Map<string, number>) => [...sums.values()].reduce((total, count) => total + count, 0);

/** Every value of an enum with its count (0 when absent). */
export function enumCounts<T extends string>(values: readonly T[], counts: Map<string, number>): Record<T, number> {
  return recordFromKeys(values, (value) => counts.get(value) ?? 0);
}

/** Whole-second average; null when nothing was counted. */
export const average = (sum: number, count: number) => (count > 0 ? Math.round(sum / count) : null);

/** Rows by count, largest first, then by key. */
export function byCountDesc<T extends { key: string | null; count: number }>(rows: T[]): T[] {
  return rows.sort((a, b) => b.count - a.count || String(a.key).localeCompare(String(b.key)));
}

interface UserName {
  _id: mongoose.Types.ObjectId;
  name: string;
}

/** Staff user names for ids, in one query. */
export async function userNames(ids: Iterable<string>): Promise<Map<string, string>> {
  const valid = [...new Set(ids)].filter((id) => mongoose.isValidObjectId(id) && id.length === 24);
  if (valid.length === 0) return new Map();
  const users = await User.find({ _id: mongoose.trusted({ $in: valid }) }, { name: 1 }).lean<UserName[]>();
  return new Map(users.map((user) => [user._id.toHexString(), user.name]));
}

// ---- time buckets ----

export const isTimeGrouping = (grouping: string): grouping is TimeGrouping => timeGroupings.some((value) => value === grouping);

const bucketOfDay = (day: string, grouping: TimeGrouping) =>
  grouping === 'day' ? day : grouping === 'week' ? weekOfDay(day) : monthOfDay(day);

/** Slices' counts grouped by time bucket, every bucket of the period present (zero-filled). */
export function byTime(slices: readonly Slice[], period: Period, grouping: TimeGrouping): Map<string, FieldCounts[]> {
  const buckets = new Map<string, FieldCounts[]>(period.days.map((day) => [bucketOfDay(day, grouping), []]));
  for (const slice of slices) buckets.get(bucketOfDay(slice.day, grouping))?.push(slice.counts);
  return buckets;
}

// ---- rows ----

/** One row per enum value, in the enum's order (zeros included). */
export function enumRows<T extends string>(values: readonly T[], counts: Map<string, number>): { key: T; count: number }[] {
  return values.map((value) => ({ key: value, count: counts.get(value) ?? 0 }));
}

export const totalOfRows = (rows: readonly { count: number }[]) => rows.reduce((total, row) => total + row.count, 0);
