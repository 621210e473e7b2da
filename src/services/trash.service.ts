import { randomUUID } from 'node:crypto';
import mongoose, { type Types } from 'mongoose';
import { isDuplicateKey } from '../database/errors';
import { inTransaction, sessionOption } from '../database/transaction';
import { typedCollection } from '../database/typed-collection';
import { Customer, type CustomerRecord } from '../models/customer.model';
import { Interaction, type InteractionRecord } from '../models/interaction.model';
import { Ticket, type TicketRecord } from '../models/ticket.model';
import {
  Deletion,
  HeldEmail,
  TrashItem,
  type HeldEmailRecord,
  type DeletionReason,
  type DeletionRecord,
  type DeletionSummary,
  type TrashEntity,
  type TrashItemRecord,
} from '../models/trash.model';
import { AppError } from '../utils/app-error';
import type { Principal } from '../utils/principal';
import * as activity from './activity.service';
import { applyCustomerChanges, applyInteractionChanges, applyTicketChanges, removed } from './analytics';
import { refreshDuplicateKeys } from './duplicates.service';
import { deleteRefreshTokens } from './token.service';

// Trash and restore (SPEC §8, issue 20). A deletion moves records out of their live collections into
// `trash_items` (models/trash.model.ts), so every existing read treats them as gone; a restore puts the same
// documents back with the same ids. Where the engine has transactions one deletion or restore is one
// transaction; elsewhere (FerretDB) the steps are ordered so that an interruption never loses a record: the
// trash item is written before the live delete, the live insert before the trash item is removed, and both
// steps can run again (a record already in the trash is replaced, one already live is not inserted twice).

/** Records as stored (read with `.lean()` or the driver, every hidden field included). */
export type CustomerDoc = CustomerRecord;
export type InteractionDoc = InteractionRecord;
export type TicketDoc = TicketRecord;

export interface TrashInput {
  customers?: CustomerDoc[];
  interactions?: InteractionDoc[];
  tickets?: TicketDoc[];
  /** The record the request named (a cascade's customer or interaction, a merge's source). */
  root: { entity: TrashEntity; record_id: Types.ObjectId | string };
  reason: DeletionReason;
  mergedInto?: Types.ObjectId;
  mergeId?: string;
  principal: Principal;
}

export interface RestoreResult {
  deletion_id: string;
  entity: TrashEntity;
  record_id: string;
  restored: { customers: string[]; interactions: string[]; tickets: string[] };
}

type Stored = Record<string, unknown> & { _id: Types.ObjectId };

function trashItem(deletionId: string, entity: TrashEntity, record: Stored, at: Date): TrashItemRecord {
  return { _id: new mongoose.Types.ObjectId(), deletion_id: deletionId, entity, record_id: record._id, record, deleted_at: at };
}

function summaryOf(input: TrashInput): DeletionSummary {
  const id = input.root.record_id;
  const customer = input.root.entity === 'customer' ? input.customers?.find((c) => c._id.equals(id)) : undefined;
  if (customer) return { name: customer.name, email: customer.email };
  const interaction = input.root.entity === 'interaction' ? input.interactions?.find((i) => i._id.equals(id)) : undefined;
  if (interaction) return { type: interaction.type, occurs_at: interaction.occurs_at };
  const ticket = input.root.entity === 'ticket' ? input.tickets?.find((t) => t._id.equals(id)) : undefined;
  if (ticket) return { title: ticket.title };
  throw new Error(`trashRecords: the root ${input.root.entity} ${String(id)} is not among the records given`);
}

const liveCollections = { customer: Customer.collection, interaction: Interaction.collection, ticket: Ticket.collection } as const;

/**
 * Writes the trash items. One already there is either left by an interrupted earlier deletion (the record is
 * still live: the item moves to this deletion) or written by a concurrent deletion of the same record (it is
 * no longer live: this deletion is taken back and answers 404, as a delete of a record already gone does).
 */
async function keepInTrash(deletionId: string, items: TrashItemRecord[]): Promise<void> {
  if (items.length === 0) return;
  const trash = typedCollection<TrashItemRecord>(TrashItem);
  const held = await trash
    .find({ record_id: { $in: items.map((item) => item.record_id) } }, { projection: { record_id: 1, entity: 1 }, ...sessionOption() })
    .toArray();
  const heldKeys = new Set(held.map((item) => `${item.entity}:${String(item.record_id)}`));
  const fresh = items.filter((item) => !heldKeys.has(`${item.entity}:${String(item.record_id)}`));
  for (const item of items.filter((i) => !fresh.includes(i))) {
    if (!(await liveCollections[item.entity].findOne({ _id: item.record_id }, { projection: { _id: 1 }, ...sessionOption() }))) {
      await trash.deleteMany({ deletion_id: deletionId }, sessionOption());
      await typedCollection<DeletionRecord>(Deletion).deleteOne({ _id: deletionId }, sessionOption());
      throw AppError.notFound(item.entity.charAt(0).toUpperCase() + item.entity.slice(1));
    }
    const { _id: _kept, ...replacement } = item;
    await trash.replaceOne({ record_id: item.record_id, entity: item.entity }, replacement, { upsert: true, ...sessionOption() });
  }
  // A concurrent deletion that wrote its item since the look-up makes this insert fail (409): nothing is lost.
  if (fresh.length > 0) await trash.insertMany(fresh, sessionOption());
}

/** The trashed customers' e-mails stay taken (HeldEmail); one held already (an interrupted earlier deletion) moves to this one. */
async function holdEmails(deletionId: string, customers: readonly CustomerDoc[]): Promise<void> {
  if (customers.length === 0) return;
  await typedCollection<HeldEmailRecord>(HeldEmail).bulkWrite(
    customers.map((customer) => ({
      replaceOne: { filter: { _id: customer.email }, replacement: { customer: customer._id, deletion_id: deletionId }, upsert: true },
    })),
    sessionOption(),
  );
}

function idsOf(records: readonly { _id: Types.ObjectId }[]): Types.ObjectId[] {
  return records.map((record) => record._id);
}

/** Deletes the live records; answers whether any was still there. */
async function removeLive(collection: mongoose.Collection, records: readonly { _id: Types.ObjectId }[]): Promise<boolean> {
  if (records.length === 0) return false;
  const { deletedCount } = await collection.deleteMany({ _id: { $in: idsOf(records) } }, sessionOption());
  return deletedCount > 0;
}

/** The activity entries and webhook events of a deletion: as today's delete, the named record's, and every customer's. */
async function recordRemoval(input: TrashInput): Promise<void> {
  const { principal, root } = input;
  for (const customer of input.customers ?? []) await activity.recordChange(principal, 'customer', customer, null);
  const interaction = root.entity === 'interaction' ? input.interactions?.find((i) => i._id.equals(root.record_id)) : undefined;
  if (interaction) await activity.recordChange(principal, 'interaction', interaction, null);
  const ticket = root.entity === 'ticket' ? input.tickets?.find((t) => t._id.equals(root.record_id)) : undefined;
  if (ticket) await activity.recordChange(principal, 'ticket', ticket, null);
}

/**
 * Moves the records to the trash as one deletion: they leave the live collections (tickets first, then
 * interactions, then customers), the analytics counters lose them, the activity trail and webhooks hear of the
 * deletion as before, and a trashed customer's refresh tokens are revoked. Answers the new deletion's id.
 */
export async function trashRecords(input: TrashInput): Promise<{ deletionId: string }> {
  const customers = input.customers ?? [];
  const interactions = input.interactions ?? [];
  const tickets = input.tickets ?? [];
  const deletionId = randomUUID();
  const at = new Date();
  const deletion: DeletionRecord = {
    _id: deletionId,
    entity: input.root.entity,
    record_id: new mongoose.Types.ObjectId(input.root.record_id),
    reason: input.reason,
    merged_into: input.mergedInto ?? null,
    merge_id: input.mergeId ?? null,
    deleted_by: { type: input.principal.type, id: new mongoose.Types.ObjectId(input.principal.id) },
    deleted_at: at,
    counts: { customers: customers.length, interactions: interactions.length, tickets: tickets.length },
    summary: summaryOf(input),
  };
  const items = [
    ...customers.map((c) => trashItem(deletionId, 'customer', c, at)),
    ...interactions.map((i) => trashItem(deletionId, 'interaction', i, at)),
    ...tickets.map((t) => trashItem(deletionId, 'ticket', t, at)),
  ];
  await inTransaction(async () => {
    // The trash first, then the live delete: without a transaction an interruption leaves a record in both
    // places (a restore or a second delete completes it), never in neither.
    await typedCollection<DeletionRecord>(Deletion).insertOne(deletion, sessionOption());
    await keepInTrash(deletionId, items);
    await holdEmails(deletionId, customers);
    // Tickets, interactions, customers: an interruption never leaves a ticket without its interaction.
    // The counters lose what this deletion removed (nothing where a concurrent request removed it first).
    if (await removeLive(Ticket.collection, tickets)) await applyTicketChanges(removed(tickets));
    if (await removeLive(Interaction.collection, interactions)) await applyInteractionChanges(removed(interactions));
    if (await removeLive(Customer.collection, customers)) await applyCustomerChanges(removed(customers));
    for (const customer of customers) await deleteRefreshTokens('customer', customer._id.toHexString());
    await recordRemoval(input);
  });
  return { deletionId };
}

// ---- restore ----

interface Restoring {
  customers: CustomerDoc[];
  interactions: InteractionDoc[];
  tickets: TicketDoc[];
}

function grouped(items: readonly TrashItemRecord[]): Restoring {
  // The stored documents are the records exactly as they were written (the driver keeps their BSON types).
  const of = <T>(entity: TrashEntity) => items.filter((item) => item.entity === entity).map((item) => item.record as unknown as T);
  return { customers: of<CustomerDoc>('customer'), interactions: of<InteractionDoc>('interaction'), tickets: of<TicketDoc>('ticket') };
}

/** Where a record that is not live is: in the trash (which deletion), or gone for good. */
async function whereIs(entity: TrashEntity, id: Types.ObjectId): Promise<string> {
  const item = await typedCollection<TrashItemRecord>(TrashItem).findOne({ record_id: id, entity }, sessionOption());
  return item ? `is in the trash (deletion ${item.deletion_id}): restore that deletion first` : 'no longer exists';
}

/** 409 naming the parent a record would come back without. */
async function assertParentsLive(
  children: readonly { _id: Types.ObjectId; parent: Types.ObjectId }[],
  parentEntity: TrashEntity,
  childEntity: TrashEntity,
  comingBack: readonly Types.ObjectId[],
): Promise<void> {
  const needed = children.filter((child) => !comingBack.some((id) => id.equals(child.parent)));
  if (needed.length === 0) return;
  const model = parentEntity === 'customer' ? Customer : Interaction;
  const live: unknown[] = await model.collection.distinct('_id', { _id: { $in: needed.map((c) => c.parent) } }, sessionOption());
  const liveIds = new Set(live.map(String));
  const orphan = needed.find((child) => !liveIds.has(String(child.parent)));
  if (!orphan) return;
  const where = await whereIs(parentEntity, orphan.parent);
  throw AppError.conflict(
    `The ${childEntity} ${orphan._id.toHexString()} cannot come back: its ${parentEntity} ${orphan.parent.toHexString()} ${where}`,
    [{ field: `${parentEntity}_id`, message: where, existing_id: orphan.parent.toHexString() }],
    'RESTORE_BLOCKED',
  );
}

/** 409 when a live customer took a trashed customer's e-mail meanwhile (possible only for records trashed before the check). */
async function assertEmailsFree(customers: readonly CustomerDoc[]): Promise<void> {
  if (customers.length === 0) return;
  const holder = await typedCollection<CustomerRecord>(Customer).findOne(
    { email: { $in: customers.map((c) => c.email) }, _id: { $nin: idsOf(customers) } },
    { projection: { email: 1 }, ...sessionOption() },
  );
  if (!holder) return;
  throw emailTakenOnRestore(holder.email, holder._id.toHexString());
}

function emailTakenOnRestore(email: string, holder?: string): AppError {
  const by = holder ? `customer ${holder}` : 'another customer';
  return AppError.conflict(
    `The e-mail ${email} of a customer in this deletion is now held by ${by}: change one of them first`,
    [{ field: 'email', message: 'already in use', ...(holder ? { existing_id: holder } : {}) }],
    'RESTORE_BLOCKED',
  );
}

/** Inserts the records not already live (a re-run after an interruption); answers those it inserted. */
async function putBack<T extends { _id: Types.ObjectId }>(collection: mongoose.Collection, records: readonly T[]): Promise<T[]> {
  if (records.length === 0) return [];
  const live: unknown[] = await collection.distinct('_id', { _id: { $in: idsOf(records) } }, sessionOption());
  const liveIds = new Set(live.map(String));
  const missing = records.filter((record) => !liveIds.has(String(record._id)));
  // insertMany stops at the first error on FerretDB whatever `ordered` says; these ids are free.
  if (missing.length > 0) await collection.insertMany(missing, sessionOption());
  return missing;
}

/** A duplicate key on a restore's insert: an e-mail taken meanwhile, or another request restoring the same records. */
async function restoreCollision(error: unknown, customers: readonly CustomerDoc[]): Promise<unknown> {
  if (!isDuplicateKey(error)) return error;
  await assertEmailsFree(customers);
  return AppError.conflict('Another request is restoring this deletion; read the trash again', undefined, 'RESTORE_BLOCKED');
}

async function reinsert(restoring: Restoring): Promise<Restoring> {
  const collided = async (error: unknown) => {
    throw await restoreCollision(error, restoring.customers);
  };
  // Customers, interactions, tickets: an interruption never leaves a ticket without its interaction.
  const customers = await putBack(Customer.collection, restoring.customers).catch(collided);
  if (customers.length > 0) await applyCustomerChanges(customers.map((after) => ({ before: null, after })));
  const interactions = await putBack(Interaction.collection, restoring.interactions).catch(collided);
  if (interactions.length > 0) await applyInteractionChanges(interactions.map((after) => ({ before: null, after })));
  const tickets = await putBack(Ticket.collection, restoring.tickets).catch(collided);
  if (tickets.length > 0) await applyTicketChanges(tickets.map((after) => ({ before: null, after })));
  return { customers, interactions, tickets };
}

/** The activity entries and `<entity>.restored` events: the deletion's named record's, and every customer's. */
async function recordRestores(deletion: DeletionRecord, restored: Restoring, principal: Principal): Promise<void> {
  for (const customer of restored.customers) await activity.recordRestore(principal, 'customer', customer);
  const interaction = deletion.entity === 'interaction' ? restored.interactions.find((i) => i._id.equals(deletion.record_id)) : undefined;
  if (interaction) await activity.recordRestore(principal, 'interaction', interaction);
  const ticket = deletion.entity === 'ticket' ? restored.tickets.find((t) => t._id.equals(deletion.record_id)) : undefined;
  if (ticket) await activity.recordRestore(principal, 'ticket', ticket);
}

export async function findDeletion(deletionId: string): Promise<DeletionRecord> {
  const deletion = await typedCollection<DeletionRecord>(Deletion).findOne({ _id: deletionId }, sessionOption());
  if (!deletion) throw AppError.notFound('Deletion');
  return deletion;
}

/**
 * Brings back everything one deletion removed, with the same ids: 404 for an unknown deletion, 409 naming what
 * blocks it (a parent not live, an e-mail taken meanwhile). Any reason: the trash route refuses a merge's
 * deletion itself (it is undone through the merge), the merge's undo calls this.
 */
export async function restoreDeletion(deletionId: string, principal: Principal): Promise<RestoreResult> {
  return inTransaction(async () => {
    const deletion = await findDeletion(deletionId);
    const items = await typedCollection<TrashItemRecord>(TrashItem).find({ deletion_id: deletionId }, sessionOption()).toArray();
    const restoring = grouped(items);
    await assertEmailsFree(restoring.customers);
    const customerIds = idsOf(restoring.customers);
    await assertParentsLive(
      restoring.interactions.map((i) => ({ _id: i._id, parent: i.customer })),
      'customer',
      'interaction',
      customerIds,
    );
    await assertParentsLive(
      restoring.tickets.map((t) => ({ _id: t._id, parent: t.interaction })),
      'interaction',
      'ticket',
      idsOf(restoring.interactions),
    );
    const restored = await reinsert(restoring);
    await recordRestores(deletion, restored, principal);
    // Customers back in `customers` are duplicates of whoever shares their keys now (marks follow).
    await refreshDuplicateKeys(idsOf(restored.customers));
    // Last, once every record is live again: a re-run after an interruption finds what is left to do.
    await TrashItem.collection.deleteMany({ deletion_id: deletionId }, sessionOption());
    await HeldEmail.collection.deleteMany({ deletion_id: deletionId }, sessionOption());
    await typedCollection<DeletionRecord>(Deletion).deleteOne({ _id: deletionId }, sessionOption());
    const hex = (records: readonly { _id: Types.ObjectId }[]) => records.map((r) => r._id.toHexString());
    return {
      deletion_id: deletionId,
      entity: deletion.entity,
      record_id: deletion.record_id.toHexString(),
      restored: { customers: hex(restoring.customers), interactions: hex(restoring.interactions), tickets: hex(restoring.tickets) },
    };
  });
}
