import type { AnyBulkWriteOperation } from 'mongodb';
import mongoose, { type Types } from 'mongoose';
import { Customer, customerView, type CustomerRecord, type CustomerView } from '../models/customer.model';
import { DuplicateMark, type DuplicateMarkRecord, type DuplicateRule } from '../models/duplicate-mark.model';
import { typedCollection } from '../database/typed-collection';
import { AppError } from '../utils/app-error';
import { can, type Principal } from '../utils/principal';
import { settleDuplicateMarks } from './duplicate-marker.service';

// GET /customers/duplicates: the groups of likely duplicates, in key order, from `duplicate_marks` (written by
// duplicates.service.ts whenever a write finds a shared key). A page reads marks after the cursor on the
// (key, customer) index — or (owner, key, customer) for a USER — in slices, and the members' records by _id: its
// cost depends on the page and on the marks it meets, not on how many customers there are. Marks that no longer
// hold (the customer left the collection or changed its key) are dropped as the page meets them, and so is the
// mark of a customer left alone in its group.

export interface DuplicateGroup {
  rule: DuplicateRule;
  /** The normalised key the members share (the name rule's is `<name>\u0000<company>`). */
  key: string;
  customers: CustomerView[];
}

export interface DuplicateGroupsPage {
  groups: DuplicateGroup[];
  next_cursor: string | null;
}

/**
 * Marks read per slice: three per group still wanted (most groups are pairs), at most 200 (a page of 20 groups
 * reads 61 marks and their customers, not 200); a page reads at most MAX_SLICES slices (then ends early, with a
 * cursor to go on).
 */
const SLICE = 200;
const MAX_SLICES = 10;
/** Members a group shows at most (a switchboard number shared by hundreds is one group, not hundreds of rows). */
const MAX_MEMBERS = 50;

type StoredCustomer = CustomerRecord & { phone_key?: string; email_key?: string; name_key?: string };

export function encodeCursor(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^(phone|email|name):/.test(key) || encodeCursor(key) !== cursor) {
    throw AppError.badRequest('Invalid cursor', [{ field: 'cursor', message: 'not a cursor this route gave' }]);
  }
  return key;
}

function ruleOf(key: string): DuplicateRule {
  const rule = key.slice(0, key.indexOf(':'));
  if (rule === 'phone' || rule === 'email' || rule === 'name') return rule;
  throw new Error(`duplicate mark with an unknown rule: ${rule}`);
}

/** Whether the stored customer still holds the key it was marked with. */
function holds(customer: StoredCustomer | undefined, key: string): customer is StoredCustomer {
  if (!customer) return false;
  const rule = ruleOf(key);
  return customer[`${rule}_key`] === key.slice(rule.length + 1);
}

/** The range of keys a page reads: after the cursor, within the rule when one is asked for. */
function keyRange(after: string | undefined, rule: DuplicateRule | undefined): Record<string, string> {
  const range: Record<string, string> = {};
  // ';' follows ':' in every collation the server uses: `rule:` ≤ every key of the rule < `rule;`.
  if (rule) Object.assign(range, { $gte: `${rule}:`, $lt: `${rule};` });
  if (after !== undefined && (range.$gte === undefined || after >= range.$gte)) {
    delete range.$gte;
    range.$gt = after;
  }
  return range;
}

interface Slice {
  /** Complete groups of this slice, in key order. */
  groups: Map<string, DuplicateMarkRecord[]>;
  /** Where the next slice starts (after this key); undefined: nothing left. */
  next: string | undefined;
}

/** Reads the next marks in key order and groups them; a group cut by the slice's end is left to the next slice. */
async function readSlice(
  owner: Types.ObjectId | undefined,
  after: string | undefined,
  rule: DuplicateRule | undefined,
  wanted: number,
): Promise<Slice> {
  // Never below MAX_MEMBERS + 1, so that a group filling a slice alone still shows its MAX_MEMBERS.
  const size = Math.min(SLICE, Math.max(3 * wanted + 1, MAX_MEMBERS + 1));
  const range = keyRange(after, rule);
  const filter = { ...(owner && { owner }), ...(Object.keys(range).length > 0 && { key: range }) };
  const marks = await typedCollection<DuplicateMarkRecord>(DuplicateMark)
    .find(filter, { sort: owner ? { owner: 1, key: 1, customer: 1 } : { key: 1, customer: 1 }, limit: size })
    .toArray();
  const groups = new Map<string, DuplicateMarkRecord[]>();
  for (const mark of marks) groups.set(mark.key, [...(groups.get(mark.key) ?? []), mark]);
  if (marks.length < size) return { groups, next: undefined };
  const last = marks[marks.length - 1]?.key ?? '';
  // The last key may go on past the slice: read it again at the start of the next one, unless it fills the slice
  // alone (a group that large shows its first members and the page moves past it).
  if (groups.size > 1) groups.delete(last);
  return { groups, next: groups.size > 0 ? [...groups.keys()].pop() : last };
}

async function membersOf(marks: DuplicateMarkRecord[]): Promise<Map<string, StoredCustomer>> {
  const ids = [...new Set(marks.map((mark) => mark.customer.toHexString()))].map((id) => new mongoose.Types.ObjectId(id));
  const found = await typedCollection<StoredCustomer>(Customer)
    .find({ _id: { $in: ids } }, { projection: { password_hash: 0, search_terms: 0, token_version: 0 } })
    .toArray();
  return new Map(found.map((customer) => [customer._id.toHexString(), customer]));
}

/** A delete of a mark that no longer holds, unless it was marked again since it was read. */
function dropMark(mark: DuplicateMarkRecord): AnyBulkWriteOperation<DuplicateMarkRecord> {
  return { deleteOne: { filter: { _id: mark._id, marked_at: mark.marked_at } } };
}

/** The slice's groups that still have two members or more (in the caller's scope), and the marks to drop. */
async function checkSlice(slice: Slice, owner: Types.ObjectId | undefined) {
  const members = await membersOf([...slice.groups.values()].flat());
  const groups: DuplicateGroup[] = [];
  const drops: AnyBulkWriteOperation<DuplicateMarkRecord>[] = [];
  for (const [key, marks] of slice.groups) {
    const live: StoredCustomer[] = [];
    for (const mark of marks) {
      const customer = members.get(mark.customer.toHexString());
      if (!holds(customer, key)) drops.push(dropMark(mark));
      else if (!owner || customer.owner?.equals(owner)) live.push(customer);
    }
    if (live.length >= 2) {
      const rule = ruleOf(key);
      groups.push({ rule, key: key.slice(rule.length + 1), customers: live.slice(0, MAX_MEMBERS).map(customerView) });
    } else if (!owner && live.length === 1) {
      // Alone under its key (the others left or changed): no longer a duplicate of anyone.
      const alone = marks.find((mark) => mark.customer.equals(live[0]?._id));
      if (alone) drops.push(dropMark(alone));
    }
  }
  return { groups, drops };
}

/**
 * A page of duplicate groups: with `customers:duplicates-all` (ADMIN, MANAGER) every group; otherwise (USER) the
 * groups of two or more customers the caller owns, counting only those members.
 */
export async function listDuplicateGroups(
  query: { limit: number; cursor?: string; rule?: DuplicateRule },
  principal: Principal,
): Promise<DuplicateGroupsPage> {
  await settleDuplicateMarks(); // this instance's own writes, still queued for marking, are seen
  const owner = can(principal, 'customers:duplicates-all') ? undefined : new mongoose.Types.ObjectId(principal.id);
  let after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  const groups: DuplicateGroup[] = [];
  const drops: AnyBulkWriteOperation<DuplicateMarkRecord>[] = [];
  for (let slices = 0; slices < MAX_SLICES && groups.length < query.limit; slices += 1) {
    const slice = await readSlice(owner, after, query.rule, query.limit - groups.length);
    const checked = await checkSlice(slice, owner);
    for (const group of checked.groups) {
      if (groups.length === query.limit) break;
      groups.push(group);
      after = `${group.rule}:${group.key}`;
    }
    drops.push(...checked.drops);
    if (groups.length < query.limit) after = slice.next;
    if (after === undefined) break;
  }
  if (drops.length > 0) await typedCollection<DuplicateMarkRecord>(DuplicateMark).bulkWrite(drops, { ordered: false });
  return { groups, next_cursor: after === undefined ? null : encodeCursor(after) };
}
