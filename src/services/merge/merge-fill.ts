import mongoose from 'mongoose';
import { addressParts, companyKey, customerStatuses, searchTermsFor, type CustomerRecord } from '../../models/customer.model';
import type { FilledField } from '../../models/merge.model';
import type { PreferableField } from '../../schemas/merge.schema';

// Which values the target of a merge takes (the rule README "Merging duplicates" states): the target keeps
// every value it has; each empty field takes the first non-empty value among the sources, in the order the
// request lists them; `prefer` names, per field, a source whose value replaces the target's own. Name and
// status always have a value, so only `prefer` changes them. Tags are united (the target's first).

interface FillField {
  /** As the merge record and its view name it: `company`, `owner_id`, `address.city`, … */
  name: string;
  prefer: PreferableField;
  get: (customer: CustomerRecord) => string | null | undefined;
  /** Stores a value (null: clears it) on a copy being built. */
  set: (customer: CustomerRecord, value: string | null) => void;
}

const isStatus = (value: string): value is (typeof customerStatuses)[number] => customerStatuses.some((s) => s === value);

const fillFields: readonly FillField[] = [
  {
    name: 'name',
    prefer: 'name',
    get: (c) => c.name,
    set: (c, v) => {
      if (v !== null) c.name = v;
    },
  },
  { name: 'company', prefer: 'company', get: (c) => c.company, set: (c, v) => (c.company = v ?? undefined) },
  { name: 'phone', prefer: 'phone', get: (c) => c.phone, set: (c, v) => (c.phone = v ?? undefined) },
  {
    name: 'status',
    prefer: 'status',
    get: (c) => c.status,
    set: (c, v) => {
      if (v !== null && isStatus(v)) c.status = v;
    },
  },
  {
    name: 'owner_id',
    prefer: 'owner_id',
    get: (c) => c.owner?.toHexString(),
    set: (c, v) => (c.owner = v === null ? undefined : new mongoose.Types.ObjectId(v)),
  },
  ...addressParts.map((part): FillField => ({
    name: `address.${part}`,
    prefer: 'address',
    get: (c) => c.address?.[part],
    set: (c, v) => {
      const address = { ...c.address };
      if (v === null) delete address[part];
      else address[part] = v;
      c.address = addressParts.some((p) => typeof address[p] === 'string') ? address : undefined;
    },
  })),
];

function valueOf(customer: CustomerRecord, field: FillField): string | null {
  const value = field.get(customer);
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}

export interface FillPlan {
  filled: FilledField[];
  tagsAdded: string[];
}

/** What the target takes from the sources (given in the request's order). */
export function planFill(target: CustomerRecord, sources: CustomerRecord[], prefer: Partial<Record<PreferableField, string>>): FillPlan {
  const filled: FilledField[] = [];
  for (const field of fillFields) {
    const before = valueOf(target, field);
    const preferred = prefer[field.prefer];
    const chosen = preferred === undefined ? undefined : sources.find((s) => s._id.toHexString() === preferred);
    let from = chosen && valueOf(chosen, field) !== null ? chosen : undefined;
    if (!from && before === null) from = sources.find((s) => valueOf(s, field) !== null);
    const after = from ? valueOf(from, field) : null;
    if (from && after !== null && after !== before) filled.push({ field: field.name, before, after, from: from._id });
  }
  const tags = new Set(target.tags ?? []);
  const tagsAdded: string[] = [];
  for (const tag of sources.flatMap((s) => s.tags ?? [])) {
    if (!tags.has(tag)) tagsAdded.push(tag);
    tags.add(tag);
  }
  return { filled, tagsAdded };
}

/** The value a filled field has on this customer now (to compare with what the merge set). */
export function currentValue(customer: CustomerRecord, name: string): string | null {
  const field = fillFields.find((f) => f.name === name);
  return field ? valueOf(customer, field) : null;
}

/** A copy of the customer with these field values (null clears a field) and these tags. */
export function withValues(customer: CustomerRecord, values: { field: string; value: string | null }[], tags: string[]): CustomerRecord {
  const next: CustomerRecord = { ...customer, tags: [...tags] };
  for (const { field, value } of values) fillFields.find((f) => f.name === field)?.set(next, value);
  return next;
}

/** The update that stores `next` (its derived keys kept in step): $set and $unset. */
export function storedUpdate(next: CustomerRecord, at: Date): { $set: Record<string, unknown>; $unset?: Record<string, ''> } {
  const set: Record<string, unknown> = { name: next.name, status: next.status, tags: next.tags, updated_at: at };
  const unset: Record<string, ''> = {};
  const optional: [string, unknown][] = [
    ['company', next.company],
    ['company_key', companyKey(next.company)],
    ['phone', next.phone],
    ['owner', next.owner],
    ['address', next.address],
  ];
  for (const [key, value] of optional) {
    if (value === undefined || value === null) unset[key] = '';
    else set[key] = value;
  }
  set.search_terms = searchTermsFor(next);
  // FerretDB refuses an empty $unset.
  return Object.keys(unset).length > 0 ? { $set: set, $unset: unset } : { $set: set };
}
