import type { ImportFormat } from '../../models/import-job.model';
import { createCustomer } from '../../schemas/customer.schema';
import { zodIssuesToDetails } from '../../utils/zod-details';
import type { RowError } from './report';
import type { SourceRow } from './source-row';

// A row of the file turned into what POST /customers would take, validated by the same schema.

/** A valid row: the create body (without a password) and the optional fields the row empties. */
export interface Candidate {
  row: number;
  email: string;
  fields: {
    name: string;
    email: string;
    company?: string;
    phone?: string;
    status?: string;
    tags?: string[];
    address?: Record<string, string | undefined>;
    owner_id?: string;
  };
  clears: string[];
}

/** Fields an empty cell (or `null`) clears on an existing customer. */
const clearable = new Set(['company', 'phone', 'tags', 'address', 'owner_id']);
/** A CSV export prefixes formula-like cells with an apostrophe (utils/csv.ts); the import takes it off. */
const NEUTRALISED = /^'[=+\-@\t\r]/;

function parseTags(value: string): unknown {
  const text = value.trim();
  if (text.startsWith('[')) {
    try {
      return JSON.parse(text);
    } catch {
      return value;
    }
  }
  return text
    .split(';')
    .map((t) => t.trim())
    .filter(Boolean);
}

function isEmptyCell(value: unknown): boolean {
  return value === null || value === undefined || (typeof value === 'string' && value.trim() === '');
}

/** An `address` value: a JSON object (text in CSV) without its absent parts; `clear` when none is left. */
function addressValue(value: unknown): { value: unknown } | 'clear' | 'not-json' {
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      return 'not-json';
    }
  }
  if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
    // An exported address lists every part, absent ones as null.
    const parts = Object.entries(parsed).filter(([, v]) => v !== null && v !== undefined && v !== '');
    return parts.length === 0 ? 'clear' : { value: Object.fromEntries(parts) };
  }
  return { value: parsed };
}

/** The row's values as a create body (address parts gathered), and the fields it empties. */
function rowInput(source: SourceRow, format: ImportFormat): { input: Record<string, unknown>; clears: string[] } | RowError[] {
  const input: Record<string, unknown> = {};
  const clears: string[] = [];
  const address: Record<string, unknown> = {};
  let addressPart = false;
  for (const [field, raw] of Object.entries(source.values)) {
    const value = typeof raw === 'string' && format === 'csv' && NEUTRALISED.test(raw) ? raw.slice(1) : raw;
    const empty = isEmptyCell(value);
    if (field.startsWith('address.')) {
      addressPart = true;
      if (!empty) address[field.slice('address.'.length)] = value;
    } else if (empty) {
      if (clearable.has(field)) clears.push(field);
      else if (field === 'name' || field === 'email') input[field] = value ?? '';
    } else if (field === 'tags' && typeof value === 'string') input.tags = parseTags(value);
    else if (field === 'address') {
      const parsed = addressValue(value);
      if (parsed === 'not-json') return [{ row: source.row, field: 'address', message: 'expected a JSON object' }];
      if (parsed === 'clear') clears.push('address');
      else input.address = parsed.value;
    } else input[field] = value;
  }
  if (addressPart && input.address === undefined) {
    if (Object.keys(address).length > 0) input.address = address;
    else clears.push('address');
  }
  return { input, clears };
}

/** Turns a file row into the POST /customers body (plus the optional fields the row empties). */
export function toCandidate(source: SourceRow, format: ImportFormat): Candidate | RowError[] {
  if (source.values.__not_object) return [{ row: source.row, field: 'row', message: 'expected an object' }];
  const collected = rowInput(source, format);
  if (Array.isArray(collected)) return collected;
  const parsed = createCustomer.body.safeParse(collected.input);
  if (!parsed.success) {
    return zodIssuesToDetails(parsed.error.issues, 'row').map((d) => ({ row: source.row, field: d.field, message: d.message }));
  }
  const { password: _password, ...fields } = parsed.data;
  return { row: source.row, email: fields.email, fields, clears: collected.clears };
}
