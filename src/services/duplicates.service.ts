import type { AnyBulkWriteOperation } from 'mongodb';
import mongoose, { type Types } from 'mongoose';
import { companyKey, Customer, type CustomerRecord } from '../models/customer.model';
import { DuplicateMark, markSlot, type DuplicateMarkRecord, type DuplicateRule } from '../models/duplicate-mark.model';
import { isDuplicateKey } from '../database/errors';
import { concurrently, sessionOption } from '../database/transaction';
import { typedCollection } from '../database/typed-collection';
import { duplicateKeyFields, duplicateKeysFor, type DuplicateKeys } from '../utils/duplicate-keys';
import { excludingIds } from '../utils/id-exclusion';

// Likely duplicates (README "Duplicates"). Each customer stores its normalised keys (utils/duplicate-keys.ts).
// Whenever a write sets them, one indexed lookup finds the other customers with an equal key, and when
// there are any, every one of them is "marked" under that key in `duplicate_marks` (models/duplicate-mark.model.ts).
// GET /customers/duplicates (duplicate-groups.service.ts) walks the marks by slot (a hash of the key). Marking costs
// one lookup, and a write of marks only when a duplicate exists; the customer routes' writes queue it after their
// commit (duplicate-marker.service.ts, which batches concurrent writes), imports and restores call it with their
// batches.

/** What marking reads and writes of a customer. */
export type KeyedCustomer = { [field in keyof DuplicateKeys]?: string | null } & { _id: Types.ObjectId; owner?: Types.ObjectId | null };

/** The rule of each key field, and the key a mark stores: `<rule>:<key>`. */
const ruleOfField = { phone_key: 'phone', email_key: 'email', name_key: 'name' } as const satisfies Record<
  (typeof duplicateKeyFields)[number],
  DuplicateRule
>;
/**
 * Others of one key a write reads and marks with it: enough to link it to its group (each member was marked when it
 * joined), few enough that a crowded key costs a write no more than a pair does.
 */
const PARTNERS_PER_KEY = 2;

/**
 * Keys this process has seen held by more than PARTNERS_PER_KEY + 1 customers (a switchboard number, a shared
 * inbox): their group exists, so a new holder is only marked, without looking the key up again. A bounded lookup
 * of a key held by thousands costs the database time in proportion to them on some engines (SecantusDB 0.5.3: ~13
 * ms for 5,000 holders, against ~1 ms for a key of one), and every create of such a customer would pay it. Kept
 * CROWDED_KEY_TTL_MS: a key that has since lost its holders gets at worst a lone mark, which the page that meets
 * it drops.
 */
const crowdedKeys = new Map<string, number>();
const CROWDED_KEY_TTL_MS = 10 * 60_000;
const CROWDED_KEYS_MAX = 10_000;

function isCrowded(key: string, now = Date.now()): boolean {
  const until = crowdedKeys.get(key);
  if (until === undefined) return false;
  if (until > now) return true;
  crowdedKeys.delete(key);
  return false;
}

function rememberCrowded(key: string): void {
  if (crowdedKeys.size >= CROWDED_KEYS_MAX) crowdedKeys.delete(crowdedKeys.keys().next().value ?? key);
  crowdedKeys.set(key, Date.now() + CROWDED_KEY_TTL_MS);
}

/** Only what marking reads of a customer record (not its password hash or address). */
export function keyedCustomer({ _id, owner, phone_key, email_key, name_key }: KeyedCustomer): KeyedCustomer {
  return { _id, owner, phone_key, email_key, name_key };
}

export function markKeysOf(customer: KeyedCustomer): string[] {
  const keys: string[] = [];
  for (const field of duplicateKeyFields) {
    const value = customer[field];
    if (value !== undefined && value !== null) keys.push(`${ruleOfField[field]}:${value}`);
  }
  return keys;
}

export function markId(key: string, customer: Types.ObjectId): string {
  return `${key}\u0000${customer.toHexString()}`;
}

/**
 * The other customers that share a key with these (not these themselves: the caller has them, and an import batch
 * would read its own thousand rows back), reading at most PARTNERS_PER_KEY + 1 others of a key. One indexed `$or`
 * query, each branch leaving these out on its (key, `_id`) index; when it comes back full, a crowded key (a
 * switchboard number hundreds share) may have hidden the holders of another, so each rule is then asked on its own,
 * bounded the same way (sent together: one round trip where the engine serves a transaction's statements in
 * parallel).
 */
async function customersSharingKeys(customers: KeyedCustomer[]): Promise<KeyedCustomer[]> {
  const projection = { _id: 1, owner: 1, phone_key: 1, email_key: 1, name_key: 1 };
  const asked = duplicateKeyFields
    .map((field) => ({
      field,
      values: [
        ...new Set(
          customers.map((c) => c[field]).filter((v): v is string => typeof v === 'string' && !isCrowded(`${ruleOfField[field]}:${v}`)),
        ),
      ],
    }))
    .filter(({ values }) => values.length > 0);
  if (asked.length === 0) return [];
  if (await lookupScansCollection()) {
    const found = await sharingKeysByScan(customers, asked);
    noteCrowdedKeys(asked, found);
    return found;
  }
  const others = excludingIds(customers.map((customer) => customer._id));
  const clauses = asked.map(({ field, values }) => ({
    field,
    values,
    filter: { [field]: values.length === 1 ? values[0] : { $in: values }, _id: others },
    limit: values.length * (PARTNERS_PER_KEY + 1),
  }));
  const find = (filter: Record<string, unknown>, limit: number) =>
    typedCollection<KeyedCustomer>(Customer)
      .find(filter, { projection, limit, ...sessionOption() })
      .toArray();
  const limit = clauses.reduce((sum, clause) => sum + clause.limit, 0);
  const found = await find(clauses.length === 1 ? (clauses[0]?.filter ?? {}) : { $or: clauses.map((clause) => clause.filter) }, limit);
  if (found.length >= limit && clauses.length > 1) {
    // Full: re-ask the rules that came back short of their bound (the others have enough holders already).
    const short = clauses.filter((clause) => {
      const asked = new Set(clause.values);
      return found.filter((customer) => asked.has(customer[clause.field] ?? '')).length < clause.limit;
    });
    await concurrently(...short.map((clause) => async () => found.push(...(await find(clause.filter, clause.limit)))));
  }
  noteCrowdedKeys(clauses, found);
  return found;
}

/**
 * The same lookup where the engine would scan the collection for it anyway (lookupScansCollection): one pass over
 * every customer's keys, matched here, costs one scan whatever the batch asks, where the engine's own matching
 * tests each document against every asked value (FerretDB 1.24, 10k customers: 1.6 s for a batch of 2, 2.3 s for
 * 500, 3.8 s for 2,000; this read 1.8–1.9 s for any of them). At most PARTNERS_PER_KEY + 1 others a value.
 */
async function sharingKeysByScan(
  customers: KeyedCustomer[],
  clauses: { field: (typeof duplicateKeyFields)[number]; values: string[] }[],
): Promise<KeyedCustomer[]> {
  const own = new Set(customers.map((customer) => customer._id.toHexString()));
  const asked = clauses.map(({ field, values }) => ({ field, values: new Set(values), seen: new Map<string, number>() }));
  const found: KeyedCustomer[] = [];
  const projection = { _id: 1, owner: 1, phone_key: 1, email_key: 1, name_key: 1 };
  const all = typedCollection<KeyedCustomer>(Customer).find({}, { projection, batchSize: 10_000, ...sessionOption() });
  for await (const customer of all) {
    if (own.has(customer._id.toHexString())) continue;
    let shares = false;
    for (const { field, values, seen } of asked) {
      const value = customer[field];
      if (typeof value !== 'string' || !values.has(value)) continue;
      const holders = seen.get(value) ?? 0;
      if (holders > PARTNERS_PER_KEY) continue;
      seen.set(value, holders + 1);
      shares = true;
    }
    if (shares) found.push(customer);
  }
  return found;
}

let scanProbe: Promise<boolean> | undefined;

/**
 * Whether the engine answers an equality on a key by scanning the collection rather than from the key's index
 * (FerretDB 1.24 does, for any field but `_id`): asked once, by explaining the lookup (a plan without an IXSCAN).
 * The lookup then reads every customer's keys once (sharingKeysByScan), and the duplicate marker flushes in pauses
 * of the writes (duplicate-marker.service.ts).
 */
export function lookupScansCollection(): Promise<boolean> {
  scanProbe ??= Customer.collection
    .find({ phone_key: '' })
    .explain()
    .then(
      (plan) => !JSON.stringify(plan).includes('IXSCAN'),
      () => false,
    );
  return scanProbe;
}

/** Remembers the keys the lookup found at its bound for one value: more other holders than it reads. */
function noteCrowdedKeys(clauses: { field: (typeof duplicateKeyFields)[number]; values: string[] }[], found: KeyedCustomer[]): void {
  // One pass over what was found (an import batch asks for a thousand values at once: not a pass per value).
  for (const { field, values } of clauses) {
    const asked = new Set(values);
    const holders = new Map<string, Set<string>>();
    for (const customer of found) {
      const value = customer[field];
      if (typeof value !== 'string' || !asked.has(value)) continue;
      const ids = holders.get(value) ?? new Set<string>();
      ids.add(customer._id.toHexString());
      holders.set(value, ids);
    }
    for (const [value, ids] of holders) if (ids.size >= PARTNERS_PER_KEY + 1) rememberCrowded(`${ruleOfField[field]}:${value}`);
  }
}

/**
 * Marks the customers that share a key with any of `customers` (already written, with their current keys and
 * owners): for each key two or more of them hold, every holder found. Marks are upserts on `<key>\u0000<id>`,
 * so marking twice makes one document.
 */
export async function markDuplicates(customers: KeyedCustomer[]): Promise<number> {
  if (customers.length === 0) return 0;
  return markWithPartners(customers, await customersSharingKeys(customers));
}

/** markDuplicates once the lookup is made: `found` are the holders of the keys of `customers` it read. */
async function markWithPartners(customers: KeyedCustomer[], found: KeyedCustomer[]): Promise<number> {
  if (customers.length === 0) return 0;
  const holders = new Map<string, Map<string, KeyedCustomer>>();
  for (const customer of [...customers, ...found]) {
    for (const key of markKeysOf(customer)) {
      const members = holders.get(key) ?? new Map<string, KeyedCustomer>();
      members.set(customer._id.toHexString(), customer);
      holders.set(key, members);
    }
  }
  const wanted = new Set(customers.flatMap(markKeysOf));
  const written = new Set(customers.map((customer) => customer._id.toHexString()));
  const marks: { key: string; member: KeyedCustomer; own: boolean }[] = [];
  for (const [key, members] of holders) {
    // A crowded key was not looked up (its group exists): its new holder is marked alone.
    if (!wanted.has(key) || (members.size < 2 && !isCrowded(key))) continue;
    for (const member of [...members.values()].slice(0, PARTNERS_PER_KEY + customers.length)) {
      marks.push({ key, member, own: written.has(member._id.toHexString()) });
    }
  }
  if (marks.length === 0) return 0;
  // A partner's mark is written only when it has none (read first: a read never conflicts). Rewriting, or even
  // upserting, an existing partner mark would make every new member of a crowded key (a switchboard number) write the
  // same documents, and concurrent transactions conflict on them and start over.
  const partnerIds = marks.filter((mark) => !mark.own).map((mark) => markId(mark.key, mark.member._id));
  const present = new Set<string>();
  if (partnerIds.length > 0) {
    const found = typedCollection<DuplicateMarkRecord>(DuplicateMark).find(
      { _id: { $in: partnerIds } },
      { projection: { _id: 1 }, ...sessionOption() },
    );
    for await (const mark of found) present.add(mark._id);
  }
  const now = new Date();
  const operations: AnyBulkWriteOperation<DuplicateMarkRecord>[] = [];
  for (const { key, member, own } of marks) {
    const _id = markId(key, member._id);
    if (!own && present.has(_id)) continue;
    const mark = { key, slot: markSlot(key), customer: member._id, owner: member.owner ?? null, marked_at: now };
    operations.push({ updateOne: { filter: { _id }, update: own ? { $set: mark } : { $setOnInsert: mark }, upsert: true } });
  }
  if (operations.length === 0) return 0;
  await typedCollection<DuplicateMarkRecord>(DuplicateMark)
    .bulkWrite(operations, { ordered: false, ...sessionOption() })
    .catch((error: unknown) => {
      // Two writers upserting one mark at once: one inserted it, the other's is the same mark.
      if (!isDuplicateKey(error)) throw error;
    });
  return operations.length;
}

/**
 * Brings the marks of these customers in step with their current keys and owners: drops the marks of keys they
 * no longer hold (all of them for a customer that is gone), then marks them where they share a key.
 */
export async function syncDuplicateMarks(ids: Types.ObjectId[], live: KeyedCustomer[]): Promise<void> {
  const current = live.flatMap((customer) => markKeysOf(customer).map((key) => markId(key, customer._id)));
  const stale = { customer: { $in: ids }, _id: { $nin: current } };
  await concurrently(
    () => (ids.length > 0 ? typedCollection<DuplicateMarkRecord>(DuplicateMark).deleteMany(stale, sessionOption()) : Promise.resolve()),
    () => markDuplicates(live),
  );
}

/** A staff user's customers handed over to another (user deletion with reassign_to): their marks follow. */
export async function reassignDuplicateMarks(from: Types.ObjectId, to: Types.ObjectId): Promise<void> {
  await typedCollection<DuplicateMarkRecord>(DuplicateMark).updateMany({ owner: from }, { $set: { owner: to } }, sessionOption());
}

const keyText = (value: unknown) => (typeof value === 'string' ? value : undefined);
const sameValue = (a: unknown, b: unknown) =>
  a instanceof mongoose.Types.ObjectId ? b instanceof mongoose.Types.ObjectId && a.equals(b) : (a ?? null) === (b ?? null);

/**
 * An import batch's marks: its new customers are marked where they share a key (with stored customers or with each
 * other), and so are the updated ones whose keys or owner changed, whose stale marks go.
 */
export async function markImportedDuplicates(
  inserted: KeyedCustomer[],
  updated: { before: Record<string, unknown>; after: Record<string, unknown> & KeyedCustomer }[],
): Promise<void> {
  const fields = [...duplicateKeyFields, 'owner'] as const;
  const rekeyed = updated
    .filter(({ before, after }) => fields.some((field) => !sameValue(before[field], after[field])))
    .map(({ after }) => ({
      _id: after._id,
      owner: after.owner,
      phone_key: keyText(after.phone_key),
      email_key: keyText(after.email_key),
      name_key: keyText(after.name_key),
    }));
  await syncDuplicateMarks(
    rekeyed.map((customer) => customer._id),
    [...inserted, ...rekeyed],
  );
}

type KeySource = Pick<CustomerRecord, '_id' | 'name' | 'email' | 'phone' | 'company' | 'owner'> & DuplicateKeys;

/** The update that brings a customer's stored keys in step with its fields (null: they are). */
function keyUpdate(customer: KeySource): { set: DuplicateKeys; unset: Record<string, ''> } | null {
  const keys = duplicateKeysFor({ ...customer, companyKey: companyKey(customer.company) });
  const set: DuplicateKeys = {};
  const unset: Record<string, ''> = {};
  for (const field of duplicateKeyFields) {
    const value = keys[field];
    if (value === undefined && customer[field] != null) unset[field] = '';
    else if (value !== undefined && value !== customer[field]) set[field] = value;
  }
  Object.assign(customer, keys);
  for (const field of Object.keys(unset)) Reflect.deleteProperty(customer, field);
  return Object.keys(set).length + Object.keys(unset).length > 0 ? { set, unset } : null;
}

/**
 * Recomputes the stored keys and the duplicate marks of these customers: for customers that came back (restore,
 * merge undo) or changed outside the customer routes (a merge filling fields, an import revert). Ids that are not
 * live customers lose their marks. Each key update matches the values it was computed from, so a change made
 * meanwhile is not overwritten (that change set its own keys).
 */
export async function refreshDuplicateKeys(customerIds: readonly (Types.ObjectId | string)[]): Promise<void> {
  const ids = [...new Set(customerIds.map(String))].map((id) => new mongoose.Types.ObjectId(id));
  if (ids.length === 0) return;
  const projection = { name: 1, email: 1, phone: 1, company: 1, owner: 1, phone_key: 1, email_key: 1, name_key: 1 };
  const customers = await typedCollection<KeySource>(Customer)
    .find({ _id: { $in: ids } }, { projection, ...sessionOption() })
    .toArray();
  const updates: AnyBulkWriteOperation<KeySource>[] = [];
  for (const customer of customers) {
    const { name, email, phone, company } = customer;
    const update = keyUpdate(customer);
    if (!update) continue;
    const filter = { _id: customer._id, name, email, phone: phone ?? null, company: company ?? null };
    // No empty operator: FerretDB 1.24 refuses `$set: {}`.
    const $set = Object.keys(update.set).length > 0 ? { $set: update.set } : {};
    const $unset = Object.keys(update.unset).length > 0 ? { $unset: update.unset } : {};
    updates.push({ updateOne: { filter, update: { ...$set, ...$unset } } });
  }
  if (updates.length > 0) await typedCollection<KeySource>(Customer).bulkWrite(updates, { ordered: false, ...sessionOption() });
  await syncDuplicateMarks(ids, customers);
}
