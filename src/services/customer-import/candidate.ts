import { addressParts, derivedCustomerFields, type AddressPart } from '../../models/customer.model';
import type { ImportFormat } from '../../models/import-job.model';
import { createCustomer } from '../../schemas/customer.schema';
import { zodIssuesToDetails } from '../../utils/zod-details';
import type { RowError } from './report';
import type { SourceRow } from './source-row';

// A row of the file turned into what POST /customers would take, validated by the same schema.

/**
 * A valid row: the create body (without a password) and the optional fields the row empties (`address.city`
 * for one part of the address, `address` for all of it).
 */
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
  /**
   * What a new customer of this row stores besides its fields: worked out while the rows are read, so that the
   * next batch's phone parsing and search terms are done while the previous one is written.
   */
  derived: ReturnType<typeof derivedCustomerFields>;
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

function isAddressPart(name: string): name is AddressPart {
  return addressParts.some((part) => part === name);
}

function isEmptyCell(value: unknown): boolean {
  return value === null || value === undefined || (typeof value === 'string' && value.trim() === '');
}

type AddressValue = { parts: Record<string, unknown>; cleared: string[] } | { value: unknown } | 'clear' | 'not-json';

/**
 * An `address` value (a JSON object, text in CSV) as a merge patch: its parts with a value, and the parts it
 * clears (null or empty). An empty cell or `null` clears the whole address; `{}` changes nothing.
 */
function addressValue(value: unknown): AddressValue {
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      return 'not-json';
    }
  }
  if (parsed === null) return 'clear';
  if (typeof parsed !== 'object' || Array.isArray(parsed)) return { value: parsed };
  const parts: Record<string, unknown> = {};
  const cleared: string[] = [];
  // An exported address lists every part, absent ones as null: re-imported, it comes back the same.
  for (const [part, v] of Object.entries(parsed)) {
    // An unknown part stays in `parts`, where validation reports it.
    if (isEmptyCell(v) && isAddressPart(part)) cleared.push(`address.${part}`);
    else parts[part] = v;
  }
  return { parts, cleared };
}

/** The address columns of a row (`address` JSON, or `address_city`…) merged into `input` and `clears`. */
function addAddress(input: Record<string, unknown>, clears: string[], json: AddressValue | undefined, columns: Record<string, unknown>) {
  const parts: Record<string, unknown> = { ...columns };
  if (json === 'clear') clears.push('address');
  else if (json && json !== 'not-json' && 'parts' in json) {
    Object.assign(parts, json.parts);
    clears.push(...json.cleared);
  } else if (json && json !== 'not-json') input.address = json.value;
  if (input.address === undefined && Object.keys(parts).length > 0) input.address = parts;
}

/**
 * The row's values as a create body (address parts gathered), and the fields it empties: an empty cell (or
 * `null`) clears its field, an address part its part (`address.city`); a column the file lacks keeps it.
 */
function rowInput(source: SourceRow, format: ImportFormat): { input: Record<string, unknown>; clears: string[] } | RowError[] {
  const input: Record<string, unknown> = {};
  const clears: string[] = [];
  const addressColumns: Record<string, unknown> = {};
  let addressJson: AddressValue | undefined;
  for (const [field, raw] of Object.entries(source.values)) {
    const value = typeof raw === 'string' && format === 'csv' && NEUTRALISED.test(raw) ? raw.slice(1) : raw;
    const empty = isEmptyCell(value);
    if (field.startsWith('address.')) {
      if (empty) clears.push(field);
      else addressColumns[field.slice('address.'.length)] = value;
    } else if (field === 'address') {
      addressJson = empty ? 'clear' : addressValue(value);
      if (addressJson === 'not-json') return [{ row: source.row, field: 'address', message: 'expected a JSON object' }];
    } else if (empty) {
      if (clearable.has(field)) clears.push(field);
      else if (field === 'name' || field === 'email') input[field] = value ?? '';
    } else if (field === 'tags' && typeof value === 'string') input.tags = parseTags(value);
    else input[field] = value;
  }
  addAddress(input, clears, addressJson, addressColumns);
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
  return { row: source.row, email: fields.email, fields, clears: collected.clears, derived: derivedCustomerFields(fields) };
}
