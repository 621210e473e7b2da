import { StringDecoder } from 'node:string_decoder';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CsvError, parse as parseCsv } from 'csv-parse';
import type { ImportFormat } from '../../models/import-job.model';
import { AppError } from '../../utils/app-error';

// Streaming readers for the import formats: each yields one row at a time, pulling from the source only as
// fast as the consumer asks (backpressure), and never holds more than one row's text.

/** A row larger than this is refused: a customer record is a few hundred bytes. */
export const MAX_ROW_BYTES = 1024 * 1024;

/** One data row of the file: its 1-based number (header excluded), its starting line, and its fields. */
export interface SourceRow {
  row: number;
  line: number;
  values: Record<string, unknown>;
}

/** Where a column of the file goes: a customer field, deliberately ignored, or unknown. */
export type ColumnTarget = { field: string } | { ignored: 'password' | 'known' } | { unknown: true };

const aliases: Record<string, string> = {};
function alias(field: string, ...names: string[]) {
  for (const name of [field, ...names]) aliases[normaliseHeader(name)] = field;
}
alias('name', 'full_name', 'fullname', 'customer_name', 'contact_name', 'contact');
alias('email', 'e-mail', 'email_address', 'mail');
alias('company', 'company_name', 'organisation', 'organization', 'org', 'business');
alias('phone', 'phone_number', 'telephone', 'tel', 'mobile');
alias('status', 'state_of_customer');
alias('owner_id', 'owner');
alias('tags', 'tag', 'labels');
alias('address');
alias('address.street', 'address_street', 'street', 'street_address');
alias('address.city', 'address_city', 'city', 'town');
alias('address.state', 'address_state', 'state', 'region', 'province');
alias('address.postal_code', 'address_postal_code', 'postal_code', 'postcode', 'zip', 'zip_code');
alias('address.country', 'address_country', 'country');

const passwordColumns = new Set(['password', 'passwordhash', 'passwd', 'pwd', 'pass', 'hash', 'currentpassword']);
/** Columns an export writes that an import does not take: ids and timestamps are the database's. */
const knownColumns = new Set(['id', 'customerid', '_id', 'createdat', 'updatedat', 'tokenversion']);

function normaliseHeader(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** Matches a column name case-insensitively, ignoring spaces, dashes and underscores. */
export function columnTarget(header: string): ColumnTarget {
  const flat = normaliseHeader(header);
  const field = aliases[flat];
  if (field) return { field };
  if (passwordColumns.has(flat)) return { ignored: 'password' };
  if (knownColumns.has(flat)) return { ignored: 'known' };
  return { unknown: true };
}

export interface ColumnReport {
  unknown: string[];
  ignored: string[];
}

const MAX_COLUMN_NOTES = 50;

/** Notes a column once (and at most 50 of them, whatever the file holds). */
export function noteColumn(list: string[], name: string): void {
  if (list.length < MAX_COLUMN_NOTES && !list.includes(name)) list.push(name);
}

/** Counts bytes flowing through and fails with 413 past the limit, whatever Content-Length said. */
export function byteLimit(maxBytes: number): Transform & { bytes: () => number } {
  let bytes = 0;
  const limiter = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      bytes += chunk.length;
      if (bytes > maxBytes) callback(AppError.payloadTooLarge(`The file is larger than the ${maxBytes}-byte import limit`));
      else callback(null, chunk);
    },
  });
  return Object.assign(limiter, { bytes: () => bytes });
}

function malformed(format: string, where: string, message: string): AppError {
  return AppError.badRequest(`Malformed ${format} at ${where}: ${message}`, [{ location: 'file', field: where, message }]);
}

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
    for await (const item of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number; records: number } }>) {
      yield { row: item.info.records, line: item.info.lines, values: item.record };
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    if (error instanceof CsvError) {
      const lines = (error as CsvError & { lines?: number }).lines;
      throw malformed('CSV', `line ${lines ?? '?'}`, error.message);
    }
    throw error;
  } finally {
    await piping;
  }
}

async function* ndjsonRows(source: Readable): AsyncGenerator<SourceRow> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let line = 0;
  let row = 0;
  const parseLine = (text: string): SourceRow | undefined => {
    line += 1;
    const trimmed = text.trim();
    if (!trimmed) return undefined;
    row += 1;
    try {
      return { row, line, values: JSON.parse(trimmed) as Record<string, unknown> };
    } catch (error) {
      throw malformed('NDJSON', `line ${line}`, (error as Error).message);
    }
  };
  for await (const chunk of source as AsyncIterable<Buffer>) {
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
 * A JSON array read element by element: a small scanner tracks strings and nesting depth and hands each
 * top-level element's text to JSON.parse, so only one row is ever held.
 */
async function* jsonArrayRows(source: Readable): AsyncGenerator<SourceRow> {
  const decoder = new StringDecoder('utf8');
  let state: 'start' | 'between' | 'element' | 'end' = 'start';
  let expectValue = true; // after '[' or ','
  let depth = 0;
  let inString = false;
  let escaped = false;
  let primitive = false;
  let parts: string[] = [];
  let partsLength = 0;
  let line = 1;
  let elementLine = 1;
  let row = 0;
  let first = true;

  const fail = (message: string) =>
    malformed('JSON', state === 'start' ? `line ${line}` : `row ${state === 'element' ? row : row + 1} (line ${line})`, message);
  const finishElement = (text: string): SourceRow => {
    try {
      return { row, line: elementLine, values: JSON.parse(text) as Record<string, unknown> };
    } catch (error) {
      throw fail((error as Error).message);
    }
  };

  for await (const chunk of source as AsyncIterable<Buffer>) {
    let text = decoder.write(chunk);
    if (first) {
      text = text.replace(/^\uFEFF/, '');
      first = text.length === 0;
    }
    let start = 0; // where the current element's text begins in this chunk
    for (let i = 0; i < text.length; i += 1) {
      const c = text.charCodeAt(i);
      if (c === 10) line += 1;
      if (state === 'element') {
        if (inString) {
          if (escaped) escaped = false;
          else if (c === 92) escaped = true;
          else if (c === 34) {
            inString = false;
            if (depth === 0) {
              parts.push(text.slice(start, i + 1));
              yield finishElement(parts.join(''));
              parts = [];
              partsLength = 0;
              state = 'between';
            }
          }
          continue;
        }
        if (primitive) {
          if (c === 44 || c === 93 || c === 32 || c === 10 || c === 13 || c === 9) {
            parts.push(text.slice(start, i));
            yield finishElement(parts.join(''));
            parts = [];
            partsLength = 0;
            primitive = false;
            state = 'between';
            i -= 1; // the delimiter is read again in 'between'
            if (c === 10) line -= 1;
          }
          continue;
        }
        if (c === 34) inString = true;
        else if (c === 123 || c === 91) depth += 1;
        else if (c === 125 || c === 93) {
          depth -= 1;
          if (depth === 0) {
            parts.push(text.slice(start, i + 1));
            yield finishElement(parts.join(''));
            parts = [];
            partsLength = 0;
            state = 'between';
          }
        }
        continue;
      }
      if (c === 32 || c === 10 || c === 13 || c === 9) continue;
      if (state === 'start') {
        if (c !== 91) throw fail('expected an array of objects');
        state = 'between';
        expectValue = true;
        continue;
      }
      if (state === 'end') throw fail('unexpected text after the array');
      // between elements
      if (c === 93) {
        if (expectValue && row > 0) throw fail('trailing comma');
        state = 'end';
        continue;
      }
      if (c === 44) {
        if (expectValue) throw fail('unexpected comma');
        expectValue = true;
        continue;
      }
      if (!expectValue) throw fail('expected a comma between rows');
      expectValue = false;
      row += 1;
      elementLine = line;
      state = 'element';
      start = i;
      depth = 0;
      if (c === 123 || c === 91) depth = 1;
      else if (c === 34) inString = true;
      else primitive = true;
    }
    if (state === 'element') {
      const piece = text.slice(start);
      parts.push(piece);
      partsLength += piece.length;
      if (partsLength > MAX_ROW_BYTES) throw fail('row larger than 1 MB');
    }
  }
  const tail = decoder.end();
  if (tail.trim()) throw fail('incomplete UTF-8 or text after the array');
  // The scanner's state after the last chunk (a plain string: TypeScript cannot follow it through the loop).
  const finalState: string = state;
  if (finalState === 'start') throw fail('expected an array of objects');
  if (finalState !== 'end') throw fail('unexpected end of file: the array is not closed');
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
  const keyCache = new Map<string, string | false>();
  const mapKey = (key: string): string | false => {
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
