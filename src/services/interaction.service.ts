import mongoose from 'mongoose';
import { Customer } from '../models/customer.model';
import {
  customerInteractionView,
  Interaction,
  interactionSecretContext,
  staffInteractionView,
  type InteractionRecord,
  type InteractionStatus,
  type InteractionType,
  type InteractionView,
} from '../models/interaction.model';
import { Ticket, type TicketRecord } from '../models/ticket.model';
import type { UpdateInteractionBody } from '../schemas/interaction.schema';
import { AppError } from '../utils/app-error';
import { dateBuckets } from '../utils/date-buckets';
import { patchFields, updateDocument, type FieldChanges } from '../utils/update-document';
import { can, type Principal } from '../utils/principal';
import { concurrently, inTransaction, sessionOption } from '../database/transaction';
import { typedCollection } from '../database/typed-collection';
import * as activity from './activity.service';
import { applyInteractionChanges } from './analytics';
import { openText, sealText } from './encryption.service';
import * as notify from './notifications';
import { trashRecords } from './trash.service';
import { assertStaffUser } from './user.service';

// Interactions: ownership is a query scope (SPEC §3), so another principal's interaction is simply not found.
// Mutations record the change themselves (analytics counters, activity trail, notifications) and return the
// records before and after it besides the caller's view of the result.

export interface InteractionChange {
  before: InteractionRecord | null;
  after: InteractionRecord | null;
  interaction: InteractionView;
}

export const toObjectId = (id: string) => new mongoose.Types.ObjectId(id);

/** Interactions the caller may read: all (read-all), their own (staff: user = self; customer: its own). */
export function readScope(principal: Principal): Record<string, unknown> {
  if (principal.type === 'customer') return { customer: toObjectId(principal.id) };
  if (can(principal, 'interactions:read-all')) return {};
  return { user: toObjectId(principal.id) };
}

/** Interactions the caller may change; customers never may (the routes refuse them first). */
function writeScope(principal: Principal): Record<string, unknown> {
  if (principal.type === 'customer' || !can(principal, 'interactions:write')) throw AppError.forbidden();
  if (can(principal, 'interactions:write-all')) return {};
  return { user: toObjectId(principal.id) };
}

type SecretField = 'notes' | 'outcome';

function openSecret(record: InteractionRecord, field: SecretField): string | null {
  const stored = record[field];
  return stored ? openText(stored, interactionSecretContext(record._id, field)) : null;
}

/** The JSON the caller may see: staff get the decrypted notes and outcome; customers never get them. */
export function presentInteraction(record: InteractionRecord, principal: Principal): InteractionView {
  if (principal.type === 'customer') return customerInteractionView(record);
  return staffInteractionView(record, { notes: openSecret(record, 'notes'), outcome: openSecret(record, 'outcome') });
}

/**
 * The interaction `id` within `scope`, read with the driver: the model has no hidden fields and no query hooks,
 * and the lean Mongoose query around the same findOne (casting, option merging, its promise chain) cost a lookup
 * more than its own work (bench:profile), as it did the customer lookup.
 */
async function findInteraction(id: string, scope: Record<string, unknown>): Promise<InteractionRecord> {
  const interaction = await typedCollection<InteractionRecord>(Interaction).findOne({ ...scope, _id: toObjectId(id) }, sessionOption());
  if (!interaction) throw AppError.notFound('Interaction');
  return interaction;
}

export async function findReadableInteraction(id: string, principal: Principal): Promise<InteractionRecord> {
  return findInteraction(id, readScope(principal));
}

async function findWritableInteraction(id: string, principal: Principal): Promise<InteractionRecord> {
  return findInteraction(id, writeScope(principal));
}

export async function getInteraction(id: string, principal: Principal): Promise<InteractionView> {
  return presentInteraction(await findReadableInteraction(id, principal), principal);
}

/** occurs_at (scheduled_at, else due_at, else creation) and its analytics buckets. */
function timing(scheduledAt: Date | null | undefined, dueAt: Date | null | undefined, createdAt: Date) {
  const occursAt = scheduledAt ?? dueAt ?? createdAt;
  return { occurs_at: occursAt, ...dateBuckets(occursAt) };
}

export interface NewInteraction {
  customerId: string;
  userId?: string;
  type: InteractionType;
  title?: string;
  notes?: string;
  outcome?: string;
  status?: InteractionStatus;
  scheduled_at?: Date;
  due_at?: Date;
  completed_at?: Date;
}

/**
 * Creates an interaction owned by `userId` (default: the caller; another user needs interactions:write-all).
 * `customerIn` says where the customer id came from, so a missing customer is a 404 for a path and a 400 for
 * a body field.
 */
export async function createInteraction(
  input: NewInteraction,
  principal: Principal,
  customerIn: 'path' | 'body',
): Promise<InteractionChange> {
  return inTransaction(async () => {
    writeScope(principal); // refuses callers who may not write interactions at all
    const userId = input.userId ?? principal.id;
    if (userId !== principal.id) {
      if (!can(principal, 'interactions:write-all'))
        throw AppError.forbidden('Only an ADMIN or MANAGER may create interactions for another user');
      await assertStaffUser(userId, 'user_id');
    }
    const missingCustomer = () =>
      customerIn === 'path'
        ? AppError.notFound('Customer')
        : AppError.validation([{ location: 'body', field: 'customer_id', message: 'no customer with this id' }]);
    if (!(await Customer.exists({ _id: input.customerId }))) throw missingCustomer();

    const id = new mongoose.Types.ObjectId();
    const now = new Date();
    const status = input.status ?? 'scheduled';
    const created = await Interaction.create({
      _id: id,
      customer: toObjectId(input.customerId),
      user: toObjectId(userId),
      type: input.type,
      title: input.title,
      notes: input.notes === undefined ? undefined : sealText(input.notes, interactionSecretContext(id, 'notes')),
      outcome: input.outcome === undefined ? undefined : sealText(input.outcome, interactionSecretContext(id, 'outcome')),
      status,
      scheduled_at: input.scheduled_at,
      due_at: input.due_at,
      completed_at: status === 'completed' ? (input.completed_at ?? now) : undefined,
      created_at: now,
      ...timing(input.scheduled_at, input.due_at, now),
    });
    // No transactions on FerretDB: if the customer was deleted meanwhile, take the interaction back out
    // rather than leave it pointing at nothing.
    if (!(await Customer.exists({ _id: input.customerId }))) {
      await Interaction.deleteOne({ _id: id });
      throw missingCustomer();
    }
    const after = created.toObject<InteractionRecord>();
    await concurrently(
      () => applyInteractionChanges([{ before: null, after }]),
      () => activity.recordChange(principal, 'interaction', null, after),
      () => notify.interactionCreated(after),
    );
    return { before: null, after, interaction: presentInteraction(after, principal) };
  });
}

function completionChanges(before: InteractionRecord, changes: UpdateInteractionBody, now: Date): FieldChanges {
  const status = changes.status ?? before.status;
  if (status !== 'completed') {
    if (changes.completed_at) {
      throw AppError.validation([{ location: 'body', field: 'completed_at', message: 'only a completed interaction has completed_at' }]);
    }
    // Reopening or cancelling clears the completion time.
    return { set: {}, unset: before.completed_at ? { completed_at: '' } : {} };
  }
  if (changes.completed_at === null) {
    throw AppError.validation([{ location: 'body', field: 'completed_at', message: 'a completed interaction needs completed_at' }]);
  }
  const completedAt = changes.completed_at ?? (before.status === 'completed' ? before.completed_at : undefined) ?? now;
  return { set: { completed_at: completedAt }, unset: {} };
}

export async function updateInteraction(id: string, changes: UpdateInteractionBody, principal: Principal): Promise<InteractionChange> {
  return inTransaction(async () => {
    const before = await findWritableInteraction(id, principal);
    const newOwner = changes.user_id !== undefined && changes.user_id !== before.user.toHexString() ? changes.user_id : undefined;
    if (newOwner) {
      if (!can(principal, 'interactions:write-all'))
        throw AppError.forbidden('Only an ADMIN or MANAGER may hand an interaction to another user');
      await assertStaffUser(newOwner, 'user_id');
    }

    const now = new Date();
    const completion = completionChanges(before, changes, now);
    const seal = (field: SecretField, value: string | null | undefined) =>
      typeof value === 'string' ? sealText(value, interactionSecretContext(before._id, field)) : value;
    const patch = patchFields({
      type: changes.type,
      title: changes.title,
      notes: seal('notes', changes.notes),
      outcome: seal('outcome', changes.outcome),
      status: changes.status,
      scheduled_at: changes.scheduled_at,
      due_at: changes.due_at,
    });
    const set = { ...completion.set, ...patch.set };
    const unset = { ...completion.unset, ...patch.unset };
    if (newOwner) set.user = toObjectId(newOwner);
    if (changes.scheduled_at !== undefined || changes.due_at !== undefined) {
      const scheduledAt = changes.scheduled_at === undefined ? before.scheduled_at : changes.scheduled_at;
      const dueAt = changes.due_at === undefined ? before.due_at : changes.due_at;
      Object.assign(set, timing(scheduledAt, dueAt, before.created_at));
    }

    await Interaction.updateOne({ _id: before._id }, updateDocument({ set, unset }), { runValidators: true });
    // Tickets carry a copy of their interaction's owner (see ticket.model): keep it in step.
    if (newOwner) await Ticket.updateMany({ interaction: before._id }, { $set: { interaction_user: toObjectId(newOwner) } });
    const after = await Interaction.findById(before._id).lean<InteractionRecord>();
    if (!after) throw AppError.notFound('Interaction');
    await concurrently(
      () => applyInteractionChanges([{ before, after }]),
      () => activity.recordChange(principal, 'interaction', before, after),
      () => notify.interactionUpdated(before, after),
    );
    return { before, after, interaction: presentInteraction(after, principal) };
  });
}

/** Deletes an interaction; one with tickets needs cascade=true (409 otherwise), which deletes them first. */
export async function deleteInteraction(id: string, cascade: boolean, principal: Principal) {
  return inTransaction(async () => {
    const before = await findWritableInteraction(id, principal);
    const tickets = await Ticket.countDocuments({ interaction: before._id });
    if (tickets > 0 && !cascade) {
      throw AppError.conflict(
        'This interaction has tickets: pass cascade=true to delete them too',
        [{ field: 'tickets', message: `${tickets} linked` }],
        'HAS_DEPENDENTS',
      );
    }
    // The interaction and its tickets go to the trash as one deletion (restorable together).
    const gone =
      tickets > 0 ? await typedCollection<TicketRecord>(Ticket).find({ interaction: before._id }, sessionOption()).toArray() : [];
    await trashRecords({
      interactions: [before],
      tickets: gone,
      root: { entity: 'interaction', record_id: before._id },
      reason: 'delete',
      principal,
    });
    return { before, after: null };
  });
}
