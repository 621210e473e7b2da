import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { CsvError, parse as parseCsv } from 'csv-parse';
import type { ImportFormat } from '../../models/import-job.model';
import { AppError } from '../../utils/app-error';
import { columnTarget, noteColumn, type ColumnReport } from './columns';
import { jsonArrayRows } from './json-array-reader';
import { errorMessage, malformed, MAX_ROW_BYTES, type SourceRow } from './source-row';

// Streaming readers for the import formats: each yields one row at a time, pulling from the source only as
// fast as the consumer asks (backpressure), and never holds more than one row's text. The JSON array reader
// is a scanner of its own (json-array-reader.ts).

async function* csvRows(source: Readable, columns: ColumnReport): AsyncGenerator<SourceRow> {
  const seen = new Set<string>();
  const parser = parseCsv({
    bom: true,
    info: true,
    skip_empty_lines: true,
    max_record_size: MAX_ROW_BYTES,
    columns: (header: string[]) =>
      header.map((name) => {
        const target = columnTarget(name);
        if ('field' in target && !seen.has(target.field)) {
          seen.add(target.field);
          return target.field;
        }
        if ('ignored' in target) {
          if (target.ignored === 'password') noteColumn(columns.ignored, name);
        } else noteColumn(columns.unknown, name);
        return false;
      }),
  });
  const piping = pipeline(source, parser).catch(() => undefined);
  try {
    // With `columns` and `info`, each record comes as { record, info } (the stream itself is typed `any`).
    const records: AsyncIterable<{ record: Record<string, string>; info: { lines: number; records: number } }> = parser;
    for await (const item of records) {
      yield { row: item.info.records, line: item.info.lines, values: item.record };
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    if (error instanceof CsvError) {
      // csv-parse puts the line number on its errors as `lines` (typed unknown: CsvError's extra context).
      throw malformed('CSV', `line ${typeof error.lines === 'number' ? error.lines : '?'}`, error.message);
    }
    throw error;
  } finally {
    await piping;
  }
}

async function* ndjsonRows(source: Readable): AsyncGenerator<SourceRow<unknown>> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let line = 0;
  let row = 0;
  const parseLine = (text: string): SourceRow<unknown> | undefined => {
    line += 1;
    const trimmed = text.trim();
    if (!trimmed) return undefined;
    row += 1;
    try {
      const values: unknown = JSON.parse(trimmed);
      return { row, line, values };
    } catch (error) {
      throw malformed('NDJSON', `line ${line}`, errorMessage(error));
    }
  };
  const chunks: AsyncIterable<Buffer> = source;
  for await (const chunk of chunks) {
    rest += decoder.write(chunk);
    let newline = rest.indexOf('\n');
    let start = 0;
    while (newline !== -1) {
      const parsed = parseLine(rest.slice(start, newline));
      if (parsed) yield parsed;
      start = newline + 1;
      newline = rest.indexOf('\n', start);
    }
    rest = rest.slice(start);
    if (rest.length > MAX_ROW_BYTES) throw malformed('NDJSON', `line ${line + 1}`, 'line longer than 1 MB');
  }
  rest += decoder.end();
  const last = parseLine(rest.replace(/^\uFEFF/, ''));
  if (last) yield last;
}

/**
 * Maps JSON keys to customer fields through the same alias table as CSV headers, noting unknown and password
 * keys once in `columns`. Remembers up to 1000 keys (a file's rows share theirs).
 */
function jsonKeyMapper(columns: ColumnReport): (key: string) => string | false {
  const keyCache = new Map<string, string | false>();
  return (key: string): string | false => {
    let target = keyCache.get(key);
    if (target === undefined) {
      const found = columnTarget(key);
      if ('field' in found) target = found.field;
      else {
        target = false;
        if ('unknown' in found) noteColumn(columns.unknown, key);
        else if (found.ignored === 'password') noteColumn(columns.ignored, key);
      }
      if (keyCache.size < 1000) keyCache.set(key, target);
    }
    return target;
  };
}

/**
 * Rows of a file in any import format, keys mapped to customer fields. JSON keys go through the same
 * alias table as CSV headers; unknown and password keys are recorded once in `columns`.
 */
export async function* readRows(source: Readable, format: ImportFormat, columns: ColumnReport): AsyncGenerator<SourceRow> {
  if (format === 'csv') {
    yield* csvRows(source, columns);
    return;
  }
  const mapKey = jsonKeyMapper(columns);
  const rows = format === 'json' ? jsonArrayRows(source) : ndjsonRows(source);
  for await (const item of rows) {
    if (typeof item.values !== 'object' || item.values === null || Array.isArray(item.values)) {
      yield { ...item, values: { __not_object: true } };
      continue;
    }
    const values: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(item.values)) {
      const target = mapKey(key);
      if (target && !(target in values)) values[target] = value;
    }
    yield { ...item, values };
  }
}
