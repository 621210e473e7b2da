import mongoose, { type Types } from 'mongoose';

// Merges of duplicate customers (SPEC §8, issue 20): one document per merge, written before anything moves
// (state `running`), so an interrupted merge on an engine without transactions can still be undone, then
// `done` once the sources are in the trash, `undone` after an undo. It names exactly what the merge changed,
// which is what an undo puts back.

export const mergeStates = ['running', 'done', 'undone'] as const;
export type MergeState = (typeof mergeStates)[number];

/** The kinds of records that reference a customer and move with a merge. */
export const movedKinds = ['interactions', 'tickets', 'notifications', 'activities'] as const;
export type MovedKind = (typeof movedKinds)[number];
export type MovedIds = Record<MovedKind, Types.ObjectId[]>;

/**
 * One field of the target the merge set: its value before and after, and the source it came from. Stored as a
 * list (a field name such as `address.city` cannot be a stored key: FerretDB refuses dots in keys).
 */
export interface FilledField {
  field: string;
  before: string | null;
  after: string;
  from: Types.ObjectId;
}

export interface MergeConflict {
  kind: MovedKind | 'fields' | 'tags';
  id: string;
  reason: string;
}

/** The stored shape (written and read with the driver). */
export interface MergeDocument {
  _id: string;
  state: MergeState;
  target: Types.ObjectId;
  sources: Types.ObjectId[];
  deletion_id: string | null;
  filled: FilledField[];
  tags_added: string[];
  /** Every record moved to the target, per kind (what the merge answer and GET /merges/:id show). */
  moved: MovedIds;
  /** The same records by the source they came from: an undo moves each back to its own source. */
  moved_from: (MovedIds & { source: Types.ObjectId })[];
  created_by: { type: 'user' | 'customer'; id: Types.ObjectId };
  created_at: Date;
  undone_at: Date | null;
  undo: { by: { type: 'user' | 'customer'; id: Types.ObjectId }; conflicts: MergeConflict[] } | null;
}

const mergeSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    state: { type: String, required: true, enum: mergeStates },
    target: { type: mongoose.Schema.Types.ObjectId, required: true },
    sources: { type: [mongoose.Schema.Types.ObjectId], required: true },
    deletion_id: { type: String, default: null },
    filled: { type: [mongoose.Schema.Types.Mixed], default: [] },
    tags_added: { type: [String], default: [] },
    moved: { type: mongoose.Schema.Types.Mixed, required: true },
    moved_from: { type: [mongoose.Schema.Types.Mixed], default: [] },
    created_by: { type: mongoose.Schema.Types.Mixed, required: true },
    created_at: { type: Date, required: true },
    undone_at: { type: Date, default: null },
    undo: { type: mongoose.Schema.Types.Mixed, default: null },
  },
  { collection: 'merges', versionKey: false },
);
// A customer's merges (as target), newest last.
mergeSchema.index({ target: 1, created_at: 1 });

export const Merge = mongoose.model('Merge', mergeSchema);

/**
 * One document per undo, keyed by the merge id: inserting it is the claim that makes a second undo (even a
 * concurrent one, on FerretDB too) answer 409.
 */
const mergeUndoSchema = new mongoose.Schema(
  { _id: { type: String, required: true }, at: { type: Date, required: true } },
  { collection: 'merge_undos', versionKey: false },
);
export const MergeUndo = mongoose.model('MergeUndo', mergeUndoSchema);

/**
 * One document per customer a merge or an undo is working on (`_id` = the customer's id), inserted before it reads
 * them and deleted when it ends: a unique insert, atomic on every engine, so two merges never take the same
 * customer at once (on FerretDB too, where nothing else would stop them). `at` lets a crashed holder's lock expire.
 */
const mergeLockSchema = new mongoose.Schema(
  {
    _id: { type: mongoose.Schema.Types.ObjectId, required: true },
    holder: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { collection: 'merge_locks', versionKey: false },
);
export const MergeLock = mongoose.model('MergeLock', mergeLockSchema);

const hex = (id: Types.ObjectId) => id.toHexString();

/** The public view of a merge (GET /merges/:merge_id, the merge and undo answers). */
export function mergeView(merge: MergeDocument) {
  return {
    id: merge._id,
    merge_id: merge._id,
    state: merge.state,
    target_id: hex(merge.target),
    source_ids: merge.sources.map(hex),
    deletion_id: merge.deletion_id,
    filled: Object.fromEntries(merge.filled.map((f) => [f.field, { before: f.before, after: f.after, from: hex(f.from) }] as const)),
    tags_added: merge.tags_added,
    moved: {
      interactions: merge.moved.interactions.map(hex),
      tickets: merge.moved.tickets.map(hex),
      notifications: merge.moved.notifications.map(hex),
      activities: merge.moved.activities.map(hex),
    } satisfies Record<MovedKind, string[]>,
    created_by: { type: merge.created_by.type, id: hex(merge.created_by.id) },
    created_at: merge.created_at,
    undone_at: merge.undone_at,
    undo: merge.undo ? { by: { type: merge.undo.by.type, id: hex(merge.undo.by.id) }, conflicts: merge.undo.conflicts } : null,
  };
}
export type MergeView = ReturnType<typeof mergeView>;
