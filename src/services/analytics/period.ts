import { AppError } from '../../utils/app-error';
import { dateBuckets } from '../../utils/date-buckets';

// A report's period is a list of whole UTC days. Buckets: UTC days (YYYY-MM-DD), ISO 8601 weeks (YYYY-Www, the
// week-year of the week's Thursday) and calendar months (YYYY-MM); edge weeks and months hold only the days
// in the period.

const MAX_PERIOD_DAYS = 3660;
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
export const monthOfDay = (day: string) => day.slice(0, 7);
export const weekOfDay = (day: string) => dateBuckets(dateOfDay(day)).week;

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
