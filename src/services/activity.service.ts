import mongoose, { type Types } from 'mongoose';
import {
  Activity,
  activityView,
  type ActivityAction,
  type ActivityEntity,
  type ActivityRecord,
  type ActivityView,
} from '../models/activity.model';
import { Customer } from '../models/customer.model';
import { publishChange, publishRestored, type ChangedEntity, type ChangeRecords } from './integrations';
import { insertDocuments } from '../database/transaction';
import type { ActivityQuery, CustomerActivityQuery } from '../schemas/activity.schema';
import { AppError } from '../utils/app-error';
import { paginate } from '../database/paginate';
import type { Page } from '../utils/paging';
import type { Principal } from '../utils/principal';

// The audit trail. Services call `recordChange` once per create, update or delete, after the write it
// describes, in the same transaction where the engine has them (database/transaction.ts); elsewhere the
// entity is written first, then its trail entry. Only field
// names are kept, never values; secret fields appear under a neutral name (`password`). Each change recorded
// here is also published to webhook endpoints (services/integrations), in the same write path.

export type Actor = Principal | 'system';

// Derived or bookkeeping fields: they change with others and say nothing by themselves.
const ignoredFields = new Set([
  '_id',
  'created_at',
  'updated_at',
  'token_version',
  'search_terms',
  'company_key',
  'phone_key',
  'email_key',
  'name_key',
  'last_login_at',
  'occurs_at',
  'day',
  'week',
  'month',
  'interaction_user',
  'creator_type',
  'creator',
  'resolution_seconds',
  'created_day',
  'created_week',
  'created_month',
  'resolved_day',
  'resolved_week',
  'resolved_month',
]);
const renamedFields: Record<string, string> = { password_hash: 'password' };

function normalise(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof mongoose.Types.ObjectId) return value.toHexString();
  if (Array.isArray(value)) return value.map(normalise);
  if (typeof value === 'object') {
    const entries = Object.entries(value).map(([k, v]) => [k, normalise(v)] as const);
    return Object.fromEntries(entries.filter(([, v]) => v !== null).sort(([a], [b]) => a.localeCompare(b)));
  }
  return value;
}

function isEmpty(value: unknown): boolean {
  return (
    value === null ||
    (Array.isArray(value) && value.length === 0) ||
    (typeof value === 'object' && value !== null && Object.keys(value).length === 0)
  );
}

/** Names of the fields that differ between two versions of a record (a new record: the fields it has). */
export function changedFields(before: object | null, after: object | null): string[] {
  const b: Record<string, unknown> = { ...before };
  const a: Record<string, unknown> = { ...after };
  const names = new Set<string>();
  for (const key of new Set([...Object.keys(b), ...Object.keys(a)])) {
    if (ignoredFields.has(key)) continue;
    const was = normalise(b[key]);
    const now = normalise(a[key]);
    if (before === null ? !isEmpty(now) : JSON.stringify(was) !== JSON.stringify(now)) names.add(renamedFields[key] ?? key);
  }
  return [...names].sort();
}

interface Recordable {
  _id: Types.ObjectId;
  customer?: Types.ObjectId | null;
}

type Entry = Omit<ActivityRecord, '_id'>;

function actorFields(actor: Actor): Pick<Entry, 'actor_type' | 'actor'> {
  return {
    actor_type: actor === 'system' ? 'system' : actor.type,
    actor: actor === 'system' ? null : new mongoose.Types.ObjectId(actor.id),
  };
}

/** The trail entry of one create, update or delete; none for an update that changed no field. */
function entryFor<T extends Recordable>(
  actor: Actor,
  entity: ActivityEntity,
  change: { before: T | null; after: T | null; extraFields?: string[] },
  at: Date,
  job: Types.ObjectId | null,
): Entry | undefined {
  const { before, after, extraFields = [] } = change;
  const record = after ?? before;
  if (!record) return undefined;
  const action: ActivityAction = before === null ? 'create' : after === null ? 'delete' : 'update';
  const fields = action === 'delete' ? [] : [...new Set([...changedFields(before, after), ...extraFields])].sort();
  if (action === 'update' && fields.length === 0) return undefined;
  const customer = entity === 'customer' ? record._id : (record.customer ?? null);
  return { at, ...actorFields(actor), action, entity, entity_id: record._id, customer, fields, job };
}

/**
 * Records one create (before = null), update or delete (after = null). `extraFields` names changes the
 * records cannot show (a password hash is never read back).
 */
export async function recordChange<E extends ChangedEntity>(
  actor: Actor,
  entity: E,
  before: (ChangeRecords[E] & Recordable) | null,
  after: (ChangeRecords[E] & Recordable) | null,
  extraFields: string[] = [],
): Promise<void> {
  const entry = entryFor(actor, entity, { before, after, extraFields }, new Date(), null);
  // Every field is set here from typed values, so the entry goes straight to the collection: one per write
  // request, and a Mongoose document (casting, defaults, validation, save hooks) would cost more than the
  // insert itself (bench:api, POST /customers).
  if (!entry) return;
  await insertDocuments(Activity.collection, [entry]);
  // The same change as a webhook event, in the same transaction (no round trip while nobody subscribes).
  await publishChange(entity, before, after);
}

/** Records a record brought back from the trash (action `restore`) and publishes `<entity>.restored`. */
export async function recordRestore<E extends ChangedEntity>(
  actor: Actor,
  entity: E,
  record: ChangeRecords[E] & Recordable,
): Promise<void> {
  const customer = entity === 'customer' ? record._id : (record.customer ?? null);
  const entry: Entry = {
    at: new Date(),
    ...actorFields(actor),
    action: 'restore',
    entity,
    entity_id: record._id,
    customer,
    fields: [],
    job: null,
  };
  await insertDocuments(Activity.collection, [entry]);
  await publishRestored(entity, record);
}

/**
 * The entries of many changes made by one import job (or its revert), written in one round trip: a batch of
 * rows gives one insert, not one per row, and each entry names the job.
 */
export async function recordJobChanges<T extends Recordable>(
  actor: Actor,
  entity: ActivityEntity,
  changes: { before: T | null; after: T | null; extraFields?: string[] }[],
  job: Types.ObjectId,
): Promise<void> {
  const at = new Date();
  const entries = changes.map((change) => entryFor(actor, entity, change, at, job)).filter((e): e is Entry => e !== undefined);
  // insertMany stops at the first error on FerretDB whatever `ordered` says; these inserts cannot collide.
  if (entries.length > 0) await Activity.collection.insertMany(entries);
}

/** The one entry of an import (`import`) or of its revert (`revert`) on the trail; `fields` names what it did. */
export async function recordJob(actor: Actor, action: 'import' | 'revert', job: Types.ObjectId, fields: string[]): Promise<void> {
  const entry: Entry = { at: new Date(), ...actorFields(actor), action, entity: 'import_job', entity_id: job, customer: null, fields, job };
  await Activity.collection.insertOne(entry);
}

/** The one entry of a merge into a customer (`merge`) or of its undo (`unmerge`); `fields` names what it set. */
export async function recordMerge(actor: Actor, action: 'merge' | 'unmerge', customer: Types.ObjectId, fields: string[]): Promise<void> {
  const entry: Entry = {
    at: new Date(),
    ...actorFields(actor),
    action,
    entity: 'customer',
    entity_id: customer,
    customer,
    fields: [...fields].sort(),
    job: null,
  };
  await insertDocuments(Activity.collection, [entry]);
}

function timeRange(from: Date | undefined, to: Date | undefined): Record<string, unknown> {
  if (!from && !to) return {};
  return { at: mongoose.trusted({ ...(from ? { $gte: from } : {}), ...(to ? { $lt: to } : {}) }) };
}

/** A customer's timeline: its own changes and those of its interactions and tickets, newest first. */
export async function customerActivity(customerId: string, query: CustomerActivityQuery): Promise<Page<ActivityView>> {
  // Staff may read every customer (SPEC §3); a deleted or unknown one is simply not found.
  if (!(await Customer.exists({ _id: customerId }))) throw AppError.notFound('Customer');
  const filter = { customer: new mongoose.Types.ObjectId(customerId), ...timeRange(query.from, query.to) };
  const page = await paginate(Activity, filter, query);
  return { ...page, items: page.items.map(activityView) };
}

/** The whole trail (ADMIN), filterable by actor, entity (and one entity's id), action and time. */
export async function listActivity(query: ActivityQuery): Promise<Page<ActivityView>> {
  const filter: Record<string, unknown> = { ...timeRange(query.from, query.to) };
  if (query.actor_id) filter.actor = new mongoose.Types.ObjectId(query.actor_id);
  if (query.entity) filter.entity = query.entity;
  if (query.entity_id) filter.entity_id = new mongoose.Types.ObjectId(query.entity_id);
  if (query.action) filter.action = query.action;
  const page = await paginate(Activity, filter, query);
  return { ...page, items: page.items.map(activityView) };
}
