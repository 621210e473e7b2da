import type { Request, Response } from 'express';
import { stringify } from 'csv-stringify/sync';
import { parsedQuery } from '../middleware/validate';
import * as schemas from '../schemas/analytics.schema';
import * as analytics from '../services/analytics.service';
import { csvCell } from '../utils/csv';
import { currentPrincipal } from '../middleware/authenticate';

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
  res
    .type('text/csv; charset=utf-8')
    .attachment(`analytics-${name}.csv`)
    .send(csv);
}

/** The overview as CSV: one line per figure. */
function overviewRows(o: analytics.Overview): Row[] {
  const rows: Row[] = [];
  const line = (section: string, metric: string, key: string | null, value: number | null) =>
    rows.push({ from: o.from, to: o.to, scope: o.scope, section, metric, key, value });
  for (const [section, figures] of [
    ['customers', o.customers],
    ['interactions', o.interactions],
    ['tickets', o.tickets],
    ['overdue', o.overdue],
  ] as const) {
    for (const [metric, value] of Object.entries(figures)) {
      if (value !== null && typeof value === 'object') {
        for (const [key, n] of Object.entries(value as Record<string, number>)) line(section, metric, key, n);
      } else line(section, metric, null, value as number | null);
    }
  }
  return rows;
}

export async function overview(_req: Request, res: Response) {
  const query = parsedQuery(res, schemas.overview);
  const body = await analytics.overview(query, currentPrincipal(res));
  send(res, query.format, 'overview', body, overviewRows(body));
}

const withPeriod = (body: { from: string; to: string; scope: string; group_by?: string }, rows: Row[]) =>
  rows.map((row) => ({ from: body.from, to: body.to, scope: body.scope, ...(body.group_by ? { group_by: body.group_by } : {}), ...row }));

export async function interactions(_req: Request, res: Response) {
  const query = parsedQuery(res, schemas.interactions);
  const body = await analytics.interactionReport(query, currentPrincipal(res));
  send(res, query.format, `interactions-${body.group_by}`, body, withPeriod(body, body.rows));
}

export async function tickets(_req: Request, res: Response) {
  const query = parsedQuery(res, schemas.tickets);
  const body = await analytics.ticketReport(query, currentPrincipal(res));
  send(res, query.format, `tickets-${body.group_by}`, body, withPeriod(body, body.rows));
}

export async function customers(_req: Request, res: Response) {
  const query = parsedQuery(res, schemas.customers);
  const body = await analytics.customerReport(query, currentPrincipal(res));
  send(res, query.format, `customers-${body.group_by}`, body, withPeriod(body, body.rows));
}

export async function users(_req: Request, res: Response) {
  const query = parsedQuery(res, schemas.users);
  const body = await analytics.userReport(query, currentPrincipal(res));
  send(res, query.format, 'users', body, withPeriod(body, body.rows));
}
