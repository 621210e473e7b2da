import type { AnyBulkWriteOperation } from 'mongodb';
import mongoose, { type Types } from 'mongoose';
import { Customer, customerView, type CustomerRecord, type CustomerView } from '../models/customer.model';
import {
  DuplicateMark,
  MARK_SLOTS,
  markSlot,
  slotText,
  type DuplicateMarkRecord,
  type DuplicateRule,
} from '../models/duplicate-mark.model';
import { typedCollection } from '../database/typed-collection';
import { AppError } from '../utils/app-error';
import { can, type Principal } from '../utils/principal';
import { settleDuplicateMarks } from './duplicate-marker.service';

// GET /customers/duplicates: the groups of likely duplicates from `duplicate_marks` (written by
// duplicates.service.ts whenever a write finds a shared key). Each mark carries a `slot`: its rule and a 48-bit hash
// of its key, so marks lie evenly over the slots of their rule. A page walks the (slot, key, customer) index — or
// (owner, slot, key, customer) for a USER — from its cursor in bounded slot ranges sized to hold about one slice of
// marks (from the number of marks), widening a range that came back short: every query meets about the marks it
// returns, whatever the collection holds (an open-ended range costs the database the whole range on some engines:
// SecantusDB 0.5.3 read 10k marks for a first page at 100k customers). The members' records are read by _id. Marks
// that no longer hold (the customer left the collection or changed its key) are dropped as the page meets them, and
// so is the mark of a customer left alone in its group. Groups come rule by rule (e-mail, name, phone) and, within
// a rule, in the stable order of their keys' hashes.

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
 * reads 61 marks and their customers, not 200); a page sends at most MAX_SLICES slices (then ends early, with a
 * cursor to go on).
 */
const SLICE = 200;
const MAX_SLICES = 12;
/** Members a group shows at most (a switchboard number shared by hundreds is one group, not hundreds of rows). */
const MAX_MEMBERS = 50;
/** How much wider the next range is after one that came back short: at most this, at least twice. */
const MAX_WIDENING = 16;

/** The rules in the order of their slots (the index sorts the rule names so). */
const WALK = ['email', 'name', 'phone'] as const satisfies readonly DuplicateRule[];

type StoredCustomer = CustomerRecord & { phone_key?: string; email_key?: string; name_key?: string };

/** Where a page goes on: at a slot of a rule, past the marks of `after` (a key of that slot) when given. */
interface Position {
  rule: DuplicateRule;
  slot: number;
  after?: string;
}

function ruleOf(key: string): DuplicateRule {
  const rule = key.slice(0, key.indexOf(':'));
  if (rule === 'phone' || rule === 'email' || rule === 'name') return rule;
  throw new Error(`duplicate mark with an unknown rule: ${rule}`);
}

/** The position just past a group's key. */
function pastKey(key: string): Position {
  const slot = markSlot(key);
  return { rule: ruleOf(key), slot: parseInt(slot.slice(slot.indexOf(':') + 1), 16), after: key };
}

/** The cursor of the page after the group of this key (the bench makes one to start deep in the walk). */
export function encodeCursor(key: string): string {
  return positionCursor(pastKey(key));
}

function positionCursor({ rule, slot, after }: Position): string {
  const text = `${rule}:${slotText(slot)}:${after === undefined ? '' : after.slice(rule.length + 1)}`;
  return Buffer.from(text, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): Position {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const parts = /^(phone|email|name):([0-9a-f]{12}):(.*)$/s.exec(text);
  const rule = parts?.[1] as DuplicateRule | undefined;
  const after = parts?.[3] ? `${rule}:${parts[3]}` : undefined;
  const position = rule && parts?.[2] ? { rule, slot: parseInt(parts[2], 16), ...(after !== undefined && { after }) } : undefined;
  // Only the cursors this route gives: the same text back, and a key in the slot its hash puts it.
  if (!position || positionCursor(position) !== cursor || (after !== undefined && markSlot(after) !== `${rule}:${parts?.[2]}`)) {
    throw AppError.badRequest('Invalid cursor', [{ field: 'cursor', message: 'not a cursor this route gave' }]);
  }
  return position;
}

/** Whether the stored customer still holds the key it was marked with. */
function holds(customer: StoredCustomer | undefined, key: string): customer is StoredCustomer {
  if (!customer) return false;
  const rule = ruleOf(key);
  return customer[`${rule}_key`] === key.slice(rule.length + 1);
}

/**
 * Marks per rule, for the width of a page's first range: the collection's count (which some engines count by
 * reading it: SecantusDB 0.5.3 takes ~20 ms for 100k), read at the first page and then again in the background
 * at most once a minute. An estimate is enough: a range too narrow widens, one too wide costs one slower slice.
 */
const marksCount = { value: undefined as Promise<number> | undefined, at: 0 };
const COUNT_TTL_MS = 60_000;

async function marksPerRule(): Promise<number> {
  const previous = marksCount.value;
  if (previous && Date.now() - marksCount.at <= COUNT_TTL_MS) return (await previous) / WALK.length;
  marksCount.at = Date.now();
  const counted = typedCollection<DuplicateMarkRecord>(DuplicateMark).estimatedDocumentCount();
  // A failed count keeps the one before, or is asked again by the next page.
  marksCount.value = previous
    ? counted.catch(() => previous)
    : counted.catch((error: unknown) => {
        marksCount.value = undefined;
        throw error;
      });
  // Refreshed in the background once there is a count: a page never waits for another.
  return (await (previous ?? marksCount.value)) / WALK.length;
}

interface Slice {
  /** Complete groups of this slice, in walk order. */
  groups: Map<string, DuplicateMarkRecord[]>;
  /** Where the next slice starts; undefined: nothing left. */
  next: Position | undefined;
  /** Marks read: the next range's width follows it. */
  read: number;
}

/** The position after a rule's last slot: the next rule's first, unless the page keeps to one rule. */
function afterRule(rule: DuplicateRule, only: DuplicateRule | undefined): Position | undefined {
  const next = WALK[WALK.indexOf(rule) + 1];
  return only || !next ? undefined : { rule: next, slot: 0 };
}

/**
 * Reads the marks of the slots [from, from + width) in walk order (past `after` at the first slot) and groups
 * them; when the slice is full, a group it may have cut is left to the next slice.
 */
async function readSlice(
  owner: Types.ObjectId | undefined,
  from: Position,
  width: number,
  size: number,
  only?: DuplicateRule,
): Promise<Slice> {
  const end = Math.min(MARK_SLOTS, from.slot + width);
  const first = `${from.rule}:${slotText(from.slot)}`;
  const upper = end === MARK_SLOTS ? `${from.rule};` : `${from.rule}:${slotText(end)}`;
  const marks = typedCollection<DuplicateMarkRecord>(DuplicateMark);
  const sort: Record<string, 1> = owner ? { owner: 1, slot: 1, key: 1, customer: 1 } : { slot: 1, key: 1, customer: 1 };
  const find = (filter: Record<string, unknown>) => marks.find({ ...(owner && { owner }), ...filter }, { sort, limit: size }).toArray();
  // Past a key: the rest of its slot (another key whose hash shares it, rarely) apart from the range after it, so
  // that the marks of the key itself are never read again (a switchboard number may have thousands).
  const [same, rest] = await Promise.all([
    from.after === undefined ? [] : find({ slot: first, key: { $gt: from.after } }),
    find({ slot: { [from.after === undefined ? '$gte' : '$gt']: first, $lt: upper } }),
  ]);
  const read = [...same, ...rest].slice(0, size);
  const groups = new Map<string, DuplicateMarkRecord[]>();
  for (const mark of read) groups.set(mark.key, [...(groups.get(mark.key) ?? []), mark]);
  if (read.length < size) {
    return { groups, next: end === MARK_SLOTS ? afterRule(from.rule, only) : { rule: from.rule, slot: end }, read: read.length };
  }
  const last = read[read.length - 1]?.key ?? '';
  // The last key may go on past the slice: read it again at the start of the next one, unless it fills the slice
  // alone (a group that large shows its first members and the page moves past it).
  if (groups.size > 1) groups.delete(last);
  return { groups, next: pastKey([...groups.keys()].pop() ?? last), read: read.length };
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
  let at: Position | undefined = query.cursor === undefined ? { rule: query.rule ?? 'email', slot: 0 } : decodeCursor(query.cursor);
  // A cursor of another rule than the one asked for: that rule's first slot if it comes later, nothing if earlier.
  if (query.rule && at.rule !== query.rule) {
    at = WALK.indexOf(at.rule) < WALK.indexOf(query.rule) ? { rule: query.rule, slot: 0 } : undefined;
  }
  const groups: DuplicateGroup[] = [];
  const drops: AnyBulkWriteOperation<DuplicateMarkRecord>[] = [];
  const perRule = await marksPerRule();
  let width = 0;
  for (let slices = 0; at && slices < MAX_SLICES && groups.length < query.limit; slices += 1) {
    // Never below MAX_MEMBERS + 1, so that a group filling a slice alone still shows its MAX_MEMBERS.
    const size = Math.min(SLICE, Math.max(3 * (query.limit - groups.length) + 1, MAX_MEMBERS + 1));
    // Slots that hold about `size` marks of a rule; after a range that came back short, wider in proportion.
    width = slices === 0 ? Math.ceil((MARK_SLOTS * size) / Math.max(perRule, 1)) : width;
    const slice = await readSlice(owner, at, width, size, query.rule);
    if (slice.read < size) width = Math.ceil(width * Math.min(MAX_WIDENING, Math.max(2, size / Math.max(slice.read, 1))));
    const checked = await checkSlice(slice, owner);
    for (const group of checked.groups) {
      if (groups.length === query.limit) break;
      groups.push(group);
      at = pastKey(`${group.rule}:${group.key}`);
    }
    drops.push(...checked.drops);
    if (groups.length < query.limit) at = slice.next;
  }
  if (drops.length > 0) await typedCollection<DuplicateMarkRecord>(DuplicateMark).bulkWrite(drops, { ordered: false });
  return { groups, next_cursor: at === undefined ? null : positionCursor(at) };
}
