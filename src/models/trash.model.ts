import mongoose, { type Types } from 'mongoose';

// The trash (SPEC §8): a deleted customer, interaction or ticket leaves its live collection and is kept whole
// here, every stored field included (password hash, search terms, keys), so that every read, list, export,
// analytics query and search of the live collections treats it as gone and a restore puts back the very same
// document. One `deletions` document per request that deleted something (a customer with its interactions and
// tickets is one deletion); `trash_items` holds its records. Both are removed together by a restore or a purge.

export const trashEntities = ['customer', 'interaction', 'ticket'] as const;
export type TrashEntity = (typeof trashEntities)[number];
export const deletionReasons = ['delete', 'merge'] as const;
export type DeletionReason = (typeof deletionReasons)[number];

const trashItemSchema = new mongoose.Schema(
  {
    deletion_id: { type: String, required: true },
    entity: { type: String, required: true, enum: trashEntities },
    record_id: { type: mongoose.Schema.Types.ObjectId, required: true },
    // The document exactly as it was stored (written and read with the driver, so its BSON types survive).
    record: { type: mongoose.Schema.Types.Mixed, required: true },
    deleted_at: { type: Date, required: true },
  },
  { collection: 'trash_items', versionKey: false },
);

trashItemSchema.index({ deletion_id: 1 });
// A record is in the trash at most once (a re-run of an interrupted deletion finds it there already).
trashItemSchema.index({ record_id: 1, entity: 1 }, { unique: true });
trashItemSchema.index({ deleted_at: 1, _id: 1 });

const deletionSchema = new mongoose.Schema(
  {
    // The deletion id (a UUID): the handle of GET/POST/DELETE /trash/:deletion_id.
    _id: { type: String, required: true },
    // The record the request named, and what it was deleted for.
    entity: { type: String, required: true, enum: trashEntities },
    record_id: { type: mongoose.Schema.Types.ObjectId, required: true },
    reason: { type: String, required: true, enum: deletionReasons },
    merged_into: { type: mongoose.Schema.Types.ObjectId, default: null },
    merge_id: { type: String, default: null },
    deleted_by: {
      type: { type: String, required: true, enum: ['user', 'customer'] },
      id: { type: mongoose.Schema.Types.ObjectId, required: true },
    },
    deleted_at: { type: Date, required: true },
    counts: {
      customers: { type: Number, required: true, default: 0 },
      interactions: { type: Number, required: true, default: 0 },
      tickets: { type: Number, required: true, default: 0 },
    },
    // The root record in a line, for the trash list: a customer's name and e-mail, an interaction's type and
    // date, a ticket's title.
    summary: { type: mongoose.Schema.Types.Mixed, default: {} },
  },
  { collection: 'deletions', versionKey: false },
);

// The trash list: newest first, by entity or by who deleted; the purge: the oldest first.
deletionSchema.index({ deleted_at: 1, _id: 1 });
deletionSchema.index({ entity: 1, deleted_at: 1, _id: 1 });
deletionSchema.index({ 'deleted_by.id': 1, deleted_at: 1, _id: 1 });
deletionSchema.index({ merge_id: 1 });

export interface TrashItemRecord {
  _id: Types.ObjectId;
  deletion_id: string;
  entity: TrashEntity;
  record_id: Types.ObjectId;
  record: Record<string, unknown> & { _id: Types.ObjectId };
  deleted_at: Date;
}

export interface DeletionSummary {
  name?: string;
  email?: string;
  type?: string;
  occurs_at?: Date;
  title?: string;
}

export interface DeletionRecord {
  _id: string;
  entity: TrashEntity;
  record_id: Types.ObjectId;
  reason: DeletionReason;
  merged_into: Types.ObjectId | null;
  merge_id: string | null;
  deleted_by: { type: 'user' | 'customer'; id: Types.ObjectId };
  deleted_at: Date;
  counts: { customers: number; interactions: number; tickets: number };
  summary: DeletionSummary;
}

/**
 * An e-mail a trashed customer holds, as the key of its own document: creating a customer whose inserts are sent
 * as one bulkWrite (database/transaction.ts) inserts and deletes this key in the same command, so a held e-mail
 * fails that insert (duplicate key) without a read before it (services/trash.service.ts).
 */
export interface HeldEmailRecord {
  _id: string;
  customer: Types.ObjectId;
  deletion_id: string;
}

const heldEmailSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    customer: { type: mongoose.Schema.Types.ObjectId },
    deletion_id: { type: String },
  },
  { collection: 'held_emails', versionKey: false },
);
heldEmailSchema.index({ deletion_id: 1 });

export const TrashItem = mongoose.model('TrashItem', trashItemSchema);
export const HeldEmail = mongoose.model('HeldEmail', heldEmailSchema);
export const Deletion = mongoose.model('Deletion', deletionSchema);

export function deletionView(deletion: DeletionRecord) {
  return {
    deletion_id: deletion._id,
    entity: deletion.entity,
    record_id: deletion.record_id.toHexString(),
    reason: deletion.reason,
    merged_into: deletion.merged_into ? deletion.merged_into.toHexString() : null,
    merge_id: deletion.merge_id ?? null,
    deleted_by: { type: deletion.deleted_by.type, id: deletion.deleted_by.id.toHexString() },
    deleted_at: deletion.deleted_at,
    counts: deletion.counts,
    summary: deletion.summary,
  };
}
export type DeletionView = ReturnType<typeof deletionView>;
