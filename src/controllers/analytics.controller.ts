import type { Request, Response } from 'express';
import { stringify } from 'csv-stringify/sync';
import type { z } from 'zod';
import { parsedQuery } from '../middleware/validate';
import * as schemas from '../schemas/analytics.schema';
import * as analytics from '../services/analytics';
import { csvCell } from '../utils/csv';
import { currentPrincipal } from '../middleware/authenticate';
import type { Principal } from '../utils/principal';

type Row = Record<string, unknown>;

/** JSON as is, or CSV (one line per row, cells neutralised against spreadsheet formulas). */
function send(res: Response, format: 'json' | 'csv', name: string, body: unknown, rows: Row[]) {
  if (format === 'json') {
    res.json(body);
    return;
  }
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const csv = stringify(
    rows.map((row) => columns.map((column) => csvCell(row[column]))),
    { header: true, columns },
  );
  res.type('text/csv; charset=utf-8').attachment(`analytics-${name}.csv`).send(csv);
}

/** The overview as CSV: one line per figure. */
function overviewRows(body: analytics.Overview): Row[] {
  const rows: Row[] = [];
  const line = (section: string, metric: string, key: string | null, value: number | null) =>
    rows.push({ from: body.from, to: body.to, scope: body.scope, section, metric, key, value });
  for (const [section, figures] of [
    ['customers', body.customers],
    ['interactions', body.interactions],
    ['tickets', body.tickets],
    ['overdue', body.overdue],
  ] as const) {
    // Every figure is a count, an average (null when nothing was counted) or counts by key.
    for (const [metric, value] of Object.entries<number | null | Record<string, number>>(figures)) {
      if (value !== null && typeof value === 'object') {
        for (const [key, count] of Object.entries(value)) line(section, metric, key, count);
      } else line(section, metric, null, value);
    }
  }
  return rows;
}

export async function overview(_req: Request, res: Response) {
  const query = parsedQuery(res, schemas.overview);
  const body = await analytics.overview(query, currentPrincipal(res));
  send(res, query.format, 'overview', body, overviewRows(body));
}

/** The body of a report with rows: the period, the scope and (grouped reports) the grouping. */
interface ReportBody {
  from: string;
  to: string;
  scope: string;
  group_by?: string;
  rows: Row[];
}

/** Every row of a CSV report carries the period, the scope and the grouping. */
function withPeriod(body: ReportBody): Row[] {
  const grouping = body.group_by ? { group_by: body.group_by } : {};
  return body.rows.map((row) => ({ from: body.from, to: body.to, scope: body.scope, ...grouping, ...row }));
}

/**
 * The handler of a report with rows: parsed query → report → JSON, or CSV named `analytics-<name>[-<group_by>]`.
 */
function reportHandler<Q extends { format: 'json' | 'csv' }>(
  name: string,
  schema: { query: z.ZodType<Q> },
  report: (query: Q, principal: Principal) => Promise<ReportBody>,
) {
  return async function sendReport(_req: Request, res: Response) {
    const query = parsedQuery(res, schema);
    const body = await report(query, currentPrincipal(res));
    send(res, query.format, body.group_by ? `${name}-${body.group_by}` : name, body, withPeriod(body));
  };
}

export const interactions = reportHandler('interactions', schemas.interactions, analytics.interactionReport);
export const tickets = reportHandler('tickets', schemas.tickets, analytics.ticketReport);
export const customers = reportHandler('customers', schemas.customers, analytics.customerReport);
export const users = reportHandler('users', schemas.users, analytics.userReport);
