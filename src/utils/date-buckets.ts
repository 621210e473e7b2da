// Calendar buckets stored on documents so analytics can `$group` on plain strings: FerretDB 1.x has no
// date operators in aggregation ($dateToString, $isoWeek, …). All buckets are UTC.

export interface DateBuckets {
  /** YYYY-MM-DD */
  day: string;
  /** ISO 8601 week, YYYY-Www (the ISO week-year, which differs from the calendar year around New Year). */
  week: string;
  /** YYYY-MM */
  month: string;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function isoWeek(date: Date): string {
  // The ISO week belongs to the year of its Thursday.
  const thursday = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const weekday = thursday.getUTCDay() || 7;
  thursday.setUTCDate(thursday.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(thursday.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((thursday.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${pad(thursday.getUTCFullYear(), 4)}-W${pad(week)}`;
}

export function dateBuckets(date: Date): DateBuckets {
  const month = `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}`;
  return { day: `${month}-${pad(date.getUTCDate())}`, week: isoWeek(date), month };
}
