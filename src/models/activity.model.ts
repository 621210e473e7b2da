import mongoose, { type InferSchemaType, type Types } from 'mongoose';

// `import_job`: one entry per import (action `import`) and per revert of one (action `revert`).
export const activityEntities = ['user', 'customer', 'interaction', 'ticket', 'import_job'] as const;
export type ActivityEntity = (typeof activityEntities)[number];
// `restore`: a record brought back from the trash (its deletion is the `delete` entry before it).
// `merge`/`unmerge`: on the target customer of a merge (POST /customers/:id/merge) and of its undo.
export const activityActions = ['create', 'update', 'delete', 'restore', 'import', 'revert', 'merge', 'unmerge'] as const;
export type ActivityAction = (typeof activityActions)[number];
export const actorTypes = ['user', 'customer', 'system'] as const;

// The audit trail: who created, changed or deleted what, and when. Only field *names* are stored, never
// values, so no secret or encrypted field can leak through it.
const activitySchema = new mongoose.Schema(
  {
    at: { type: Date, required: true },
    actor_type: { type: String, required: true, enum: actorTypes },
    // Absent for the system (e.g. the configured ADMIN created at start).
    actor: { type: mongoose.Schema.Types.ObjectId, default: null },
    action: { type: String, required: true, enum: activityActions },
    entity: { type: String, required: true, enum: activityEntities },
    entity_id: { type: mongoose.Schema.Types.ObjectId, required: true },
    // The customer the entry belongs to (a customer, or its interaction or ticket): the timeline's key.
    customer: { type: mongoose.Schema.Types.ObjectId, default: null },
    fields: { type: [String], default: [] },
    // The import job whose import or revert made this change (null for a change made by a request).
    job: { type: mongoose.Schema.Types.ObjectId, default: null },
  },
  { collection: 'activity', versionKey: false },
);

// Newest-first pages: the whole trail, a customer's timeline, and the ADMIN filters (actor, entity).
activitySchema.index({ at: 1, _id: 1 });
activitySchema.index({ customer: 1, at: 1, _id: 1 });
activitySchema.index({ actor: 1, at: 1, _id: 1 });
activitySchema.index({ entity: 1, at: 1, _id: 1 });
activitySchema.index({ entity_id: 1, at: 1, _id: 1 });

export type ActivityRecord = InferSchemaType<typeof activitySchema> & { _id: Types.ObjectId };
export const Activity = mongoose.model('Activity', activitySchema);

export function activityView(entry: ActivityRecord) {
  const id = entry._id.toHexString();
  return {
    id,
    activity_id: id,
    at: entry.at,
    actor: { type: entry.actor_type, id: entry.actor ? entry.actor.toHexString() : null },
    action: entry.action,
    entity: entry.entity,
    entity_id: entry.entity_id.toHexString(),
    customer_id: entry.customer ? entry.customer.toHexString() : null,
    fields: entry.fields ?? [],
    job_id: entry.job ? entry.job.toHexString() : null,
  };
}
export type ActivityView = ReturnType<typeof activityView>;
