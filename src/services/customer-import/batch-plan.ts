import mongoose, { type Types } from 'mongoose';
import { companyKey, searchTermsFor } from '../../models/customer.model';
import { duplicateKeyChanges } from '../../utils/duplicate-keys';
import type { ImportMode } from '../../models/import-job.model';
import {
  applyFieldChanges,
  isPlainObject,
  mergePatch,
  mergePatchFields,
  updateDocument,
  type FieldChanges,
} from '../../utils/update-document';
import { changedFields as changedFieldNames } from '../activity.service';
import type { Candidate } from './candidate';
import type { StoredCustomerDoc } from './lookups';
import type { RowError } from './report';
import { trashedEmailMessage } from '../trash-holds.service';

// What a batch of valid rows does to the stored customers, decided before anything is written: which rows
// insert, which update (and what), which are skipped or fail, and the change records a revert will read.

const ObjectId = mongoose.Types.ObjectId;

/** The fields an import sets; the before-image of an updated row keeps their previous values. */
const trackedFields = ['name', 'company', 'phone', 'status', 'owner', 'tags', 'address', 'search_terms', 'updated_at'] as const;

export interface BatchPlan {
  /** New customers, as documents ready to insert. */
  inserts: NewCustomerDoc[];
  /** The file row of each insert, by its new id. */
  insertRows: Map<string, number>;
  updates: { filter: Record<string, unknown>; update: Record<string, unknown> }[];
  /** The change records (written before the changes, so a revert finds every write). */
  changes: Record<string, unknown>[];
  /** Each update's before and after, for the analytics counters and the activity trail. */
  analytics: { before: StoredCustomerDoc; after: StoredCustomerDoc }[];
  /** One error per failed row. */
  failures: RowError[];
  skipped: number;
}

interface BatchContext {
  mode: ImportMode;
  jobId: Types.ObjectId;
  importerId: string;
  /** Stored customers by e-mail, and the owner ids that exist. */
  existing: Map<string, StoredCustomerDoc>;
  /** Customers in the trash by e-mail: their e-mails stay taken (the row fails whatever the mode). */
  trashed: Map<string, { id: string; deletionId: string }>;
  owners: Set<string>;
  /** The write time: `updated_at` of every row the batch writes. */
  now: Date;
}

function normalisedAddress(value: unknown): string {
  if (!value || typeof value !== 'object') return '';
  const entries = Object.entries(value).filter(([, v]) => v !== undefined && v !== null && v !== '');
  return entries.length === 0 ? '' : JSON.stringify(entries.sort(([a], [b]) => a.localeCompare(b)));
}

function idText(value: unknown): string {
  return value instanceof ObjectId ? value.toHexString() : '';
}

function sameValue(field: string, current: unknown, next: unknown): boolean {
  if (field === 'owner') return idText(current) === idText(next);
  if (field === 'tags') return JSON.stringify(current ?? []) === JSON.stringify(next ?? []);
  return (current ?? undefined) === (next ?? undefined);
}

/** The document a new row inserts: the create defaults (status lead, owner the importer, no tags). */
function newCustomerDoc({ fields, derived }: Candidate, importerId: string, now: Date) {
  return {
    _id: new ObjectId(),
    name: fields.name,
    email: fields.email,
    ...(fields.company !== undefined && { company: fields.company }),
    ...(fields.phone !== undefined && { phone: fields.phone }),
    status: fields.status ?? 'lead',
    owner: new ObjectId(fields.owner_id ?? importerId),
    tags: fields.tags ?? [],
    ...(fields.address !== undefined && { address: fields.address }),
    token_version: 0,
    ...derived,
    created_at: now,
    updated_at: now,
  };
}

export type NewCustomerDoc = ReturnType<typeof newCustomerDoc>;

/**
 * The row's address as a merge patch of the stored one (RFC 7396, as PATCH /customers/:id): a part with a
 * value is set, a cleared part removed, a part the file has no column for kept. Undefined: no address column.
 */
function addressPatch({ fields, clears }: Candidate): Record<string, unknown> | null | undefined {
  const patch: Record<string, unknown> = {};
  for (const field of clears) if (field.startsWith('address.')) patch[field.slice('address.'.length)] = null;
  Object.assign(patch, fields.address);
  if (clears.includes('address')) return fields.address && Object.keys(fields.address).length > 0 ? fields.address : null;
  return Object.keys(patch).length > 0 ? patch : undefined;
}

/** The address part of a row's update: nothing when the merged address equals the stored one. */
function addressChanges(candidate: Candidate, current: StoredCustomerDoc): FieldChanges {
  const patch = addressPatch(candidate);
  const stored = isPlainObject(current.address) ? current.address : undefined;
  if (patch === undefined) return { set: {}, unset: {} };
  // A whole-address clear followed by parts (an empty `address` cell next to `address_city`) replaces it.
  const replace = patch !== null && candidate.clears.includes('address');
  const merged = patch === null ? {} : mergePatch(replace ? {} : (stored ?? {}), patch);
  if (normalisedAddress(stored) === normalisedAddress(merged)) return { set: {}, unset: {} };
  if (replace || patch === null)
    return Object.keys(merged).length > 0 ? { set: { address: merged }, unset: {} } : { set: {}, unset: { address: '' } };
  return mergePatchFields({ address: patch }, { address: current.address });
}

/** What a row changes on its stored customer: the fields it sets to new values and those it empties. */
function changedFields(candidate: Candidate, current: StoredCustomerDoc): FieldChanges {
  const { fields, clears } = candidate;
  const next: Record<string, unknown> = {
    name: fields.name,
    company: fields.company,
    phone: fields.phone,
    status: fields.status,
    tags: fields.tags,
    owner: fields.owner_id ? new ObjectId(fields.owner_id) : undefined,
  };
  const { set, unset } = addressChanges(candidate, current);
  for (const [field, value] of Object.entries(next)) {
    if (value !== undefined && !sameValue(field, current[field], value)) set[field] = value;
  }
  for (const field of clears) {
    if (field.startsWith('address')) continue;
    const target = field === 'owner_id' ? 'owner' : field;
    if (target === 'tags') {
      if (Array.isArray(current.tags) && current.tags.length > 0) set.tags = [];
    } else if (current[target] !== undefined && current[target] !== null) unset[target] = '';
  }
  return { set, unset };
}

/** Plans an update of a stored customer, or counts the row skipped when it changes nothing. */
function planUpdate(plan: BatchPlan, candidate: Candidate, current: StoredCustomerDoc, context: BatchContext): void {
  const { set, unset } = changedFields(candidate, current);
  if (Object.keys(set).length === 0 && Object.keys(unset).length === 0) {
    plan.skipped += 1;
    return;
  }
  if ('name' in set || 'company' in set || 'company' in unset) {
    set.search_terms = searchTermsFor({
      // What `set` holds for name and company is the row's value (changedFields).
      name: 'name' in set ? candidate.fields.name : current.name,
      email: current.email,
      company: 'company' in unset ? undefined : 'company' in set ? candidate.fields.company : current.company,
    });
  }
  if ('company' in unset) unset.company_key = '';
  else if ('company' in set) set.company_key = companyKey(candidate.fields.company);
  if (['name', 'company', 'phone'].some((field) => field in set || field in unset)) {
    // The row's value where it sets one, none where it clears one, else the stored value.
    const after = (field: 'name' | 'company' | 'phone') => {
      const value: unknown = field in unset ? undefined : field in set ? candidate.fields[field] : current[field];
      return typeof value === 'string' ? value : undefined;
    };
    const keys = duplicateKeyChanges({
      name: after('name') ?? current.name,
      email: current.email,
      phone: after('phone'),
      companyKey: companyKey(after('company')),
    });
    Object.assign(set, keys.set);
    Object.assign(unset, keys.unset);
  }
  set.updated_at = context.now;
  const before: Record<string, unknown> = {};
  for (const field of trackedFields) before[field] = current[field] ?? null;
  const after = applyFieldChanges(current, { set, unset });
  // `fields`: the names the activity entry lists, for the revert's entry when it puts them back.
  const fields = changedFieldNames(current, after);
  plan.changes.push({
    job: context.jobId,
    customer: current._id,
    row: candidate.row,
    action: 'updated',
    written_at: context.now,
    before,
    fields,
  });
  plan.analytics.push({ before: current, after });
  plan.updates.push({ filter: { _id: current._id }, update: updateDocument({ set, unset }) });
}

/** Decides, row by row in file order, what the batch writes. */
export function planBatch(batch: Candidate[], context: BatchContext): BatchPlan {
  const plan: BatchPlan = { inserts: [], insertRows: new Map(), updates: [], changes: [], analytics: [], failures: [], skipped: 0 };
  for (const candidate of batch) {
    const { fields, row } = candidate;
    if (fields.owner_id && !context.owners.has(fields.owner_id)) {
      plan.failures.push({ row, field: 'owner_id', message: 'no staff user with this id' });
      continue;
    }
    const current = context.existing.get(candidate.email);
    const trashed = current ? undefined : context.trashed.get(candidate.email);
    if (trashed) {
      plan.failures.push({ row, field: 'email', message: trashedEmailMessage(trashed, true) });
    } else if (!current) {
      const doc = newCustomerDoc(candidate, context.importerId, context.now);
      plan.inserts.push(doc);
      plan.insertRows.set(doc._id.toHexString(), row);
    } else if (context.mode === 'insert')
      plan.failures.push({ row, field: 'email', message: `a customer with this e-mail already exists (id ${current._id.toHexString()})` });
    else if (context.mode === 'skip') plan.skipped += 1;
    else planUpdate(plan, candidate, current, context);
  }
  // Created rows: one record per batch (ids and row numbers), half the writes of one per row.
  if (plan.inserts.length > 0) {
    plan.changes.push({
      job: context.jobId,
      action: 'created',
      customers: plan.inserts.map((d) => d._id),
      rows: [...plan.insertRows.values()],
      written_at: context.now,
    });
  }
  return plan;
}
