import type { Types } from 'mongoose';
import { currentSession, queueKeyFreeCheck, sessionOption } from '../database/transaction';
import { typedCollection } from '../database/typed-collection';
import { HeldEmail, TrashItem, type HeldEmailRecord } from '../models/trash.model';
import { AppError } from '../utils/app-error';
import type { Principal } from '../utils/principal';

// What records in the trash still hold (services/trash.service.ts moves them there): a trashed customer's
// e-mail stays taken, and a staff user named by trashed records hands them over when deleted, so a restore
// never brings back a duplicate e-mail or a missing owner.

// ---- the e-mails of trashed customers ----

/** The trashed customer holding this e-mail, if any (its `held_emails` key, written with its trash item). */
export async function trashedCustomerWithEmail(email: string): Promise<{ id: string; deletionId: string } | undefined> {
  const held = await typedCollection<HeldEmailRecord>(HeldEmail).findOne({ _id: email }, sessionOption());
  return held ? { id: held.customer.toHexString(), deletionId: held.deletion_id } : undefined;
}

/** The trashed customers holding any of these e-mails, by e-mail (an import's batch asks once). */
export async function trashedCustomersWithEmails(emails: string[]): Promise<Map<string, { id: string; deletionId: string }>> {
  const found = new Map<string, { id: string; deletionId: string }>();
  if (emails.length === 0) return found;
  for await (const held of typedCollection<HeldEmailRecord>(HeldEmail).find({ _id: { $in: emails } })) {
    found.set(held._id, { id: held.customer.toHexString(), deletionId: held.deletion_id });
  }
  return found;
}

/** The message of the 409 for an e-mail a trashed customer holds (ids for staff only, like any taken e-mail). */
export function trashedEmailMessage(held: { id: string; deletionId: string }, staff: boolean): string {
  if (!staff) return 'A customer with this e-mail already exists';
  return `A customer in the trash holds this e-mail (id ${held.id}, deletion_id ${held.deletionId}): restore it instead (POST /trash/${held.deletionId}/restore)`;
}

/**
 * Where the unit of work queues its writes: the trash's e-mail check, queued to travel in their command (a held
 * e-mail fails it with a duplicate key; queueKeyFreeCheck). False elsewhere: the caller checks with a read.
 */
export function queueEmailFreeCheck(email: string): boolean {
  return queueKeyFreeCheck(HeldEmail.collection, email);
}

/**
 * The trash's e-mail check before a customer's insert. Where the unit of work queues its inserts (one bulkWrite
 * with the commit) the check travels in that command (queueKeyFreeCheck): a held e-mail (its HeldEmail key, written
 * when its customer was trashed) fails the command with a duplicate key (the caller's error path names the holder). In another transaction it is a read, as its first statement: a trashing that
 * commits later changes the e-mail's index entry the insert needs, so the insert fails instead of slipping past.
 * Answers whether the check must still run after the insert (no transaction: `assertEmailNotTrashed` with an undo).
 */
export async function checkEmailFreeBeforeInsert(email: string, caller: Principal): Promise<boolean> {
  if (queueEmailFreeCheck(email)) return false;
  if (!currentSession()) return true;
  await assertEmailNotTrashed(email, caller);
  return false;
}

/**
 * Checked AFTER the live insert or e-mail change succeeded (in its transaction where the engine has them): a
 * customer being trashed has its trash item written before it leaves `customers`, so one of the two writes
 * always sees the other. Without a transaction `undo` takes the write back before the 409.
 */
export async function assertEmailNotTrashed(email: string | undefined, caller: Principal | undefined, undo?: () => Promise<unknown>) {
  if (email === undefined) return;
  const held = await trashedCustomerWithEmail(email);
  if (!held) return;
  if (!currentSession() && undo) await undo();
  const staff = caller?.type === 'user';
  throw AppError.conflict(
    trashedEmailMessage(held, staff),
    [{ location: 'body', field: 'email', message: 'held by a customer in the trash', ...(staff ? { existing_id: held.id } : {}) }],
    'DUPLICATE',
  );
}

// ---- staff users' records in the trash ----

/** A staff user's trashed records: owned customers and interactions, tickets assigned to, raised by or on theirs. */
function heldByUser(userId: Types.ObjectId) {
  return {
    $or: [
      { entity: 'customer', 'record.owner': userId },
      { entity: 'interaction', 'record.user': userId },
      { entity: 'ticket', 'record.assigned_to': userId },
      { entity: 'ticket', 'record.interaction_user': userId },
      { entity: 'ticket', 'record.creator_type': 'user', 'record.creator': userId },
    ],
  };
}

/** How many trashed records name this staff user (deleting the user hands them over like live ones). */
export function countTrashedRecordsOf(userId: Types.ObjectId): Promise<number> {
  return TrashItem.collection.countDocuments(heldByUser(userId), sessionOption());
}

/** Hands a deleted staff user's trashed records over to `to`, so a restore never brings back a missing owner. */
export async function reassignTrashedRecords(from: Types.ObjectId, to: Types.ObjectId): Promise<void> {
  const trash = TrashItem.collection;
  const moves: [string, Record<string, unknown>][] = [
    ['customer', { 'record.owner': from }],
    ['interaction', { 'record.user': from }],
    ['ticket', { 'record.assigned_to': from }],
    ['ticket', { 'record.interaction_user': from }],
    ['ticket', { 'record.creator_type': 'user', 'record.creator': from }],
  ];
  for (const [entity, filter] of moves) {
    const field = Object.keys(filter).at(-1) ?? '';
    await trash.updateMany({ entity, ...filter }, { $set: { [field]: to } }, sessionOption());
  }
}
