import type { Request, Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { parsedQuery } from '../middleware/validate';
import { exportCustomers as exportSchema, type ExportFormat } from '../schemas/export.schema';
import { exportStreams } from '../services/customer-import';
import { AppError } from '../utils/app-error';
import { logger } from '../utils/logger';

const contentTypes: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  json: 'application/json; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
};

function formatFromAccept(req: Request): ExportFormat {
  if (!req.headers.accept) return 'csv';
  const chosen = req.accepts(['text/csv', 'application/json', 'application/x-ndjson']);
  if (chosen === 'application/json') return 'json';
  if (chosen === 'application/x-ndjson') return 'ndjson';
  if (chosen === 'text/csv') return 'csv';
  throw new AppError(406, 'NOT_ACCEPTABLE', 'The export is available as text/csv, application/json or application/x-ndjson');
}

export async function exportCustomers(req: Request, res: Response) {
  const query = parsedQuery(res, exportSchema);
  const format = query.format ?? formatFromAccept(req);
  const day = new Date().toISOString().slice(0, 10);
  const { source, serialiser } = await exportStreams(query, format);
  res.status(200);
  res.setHeader('Content-Type', contentTypes[format]);
  res.setHeader('Content-Disposition', `attachment; filename="customers-${day}.${format}"`);
  res.setHeader('Cache-Control', 'no-store');
  try {
    await pipeline(source, serialiser, res);
  } catch (error) {
    // Before the first byte the error handler can still answer (503 for a database outage); after it the
    // only honest signal is a cut connection, so a client never mistakes a partial file for a whole one.
    if (!res.headersSent) throw error;
    if (!res.destroyed) res.destroy();
    if (!req.destroyed && !req.socket.destroyed) logger.warn({ err: error }, 'export failed mid-stream');
  }
}
