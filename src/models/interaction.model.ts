import mongoose, { type InferSchemaType, type Types } from 'mongoose';
import { timestamps } from './timestamps';

export const interactionTypes = ['meeting', 'call', 'email', 'task', 'follow_up', 'note'] as const;
export type InteractionType = (typeof interactionTypes)[number];
export const interactionStatuses = ['scheduled', 'completed', 'cancelled'] as const;
export type InteractionStatus = (typeof interactionStatuses)[number];

const interactionSchema = new mongoose.Schema(
  {
    customer: { type: mongoose.Schema.Types.ObjectId, ref: 'Customer', required: true },
    // The staff user who owns the interaction (SPEC §3 "own" = this field).
    user: { type: mongoose.Schema.Types.ObjectId, ref: 'User', required: true },
    type: { type: String, required: true, enum: interactionTypes },
    title: { type: String, trim: true, maxlength: 200 },
    // Sensitive: only ever stored as `enc:v1:…` ciphertext (utils/crypto.ts), never in clear.
    notes: { type: String },
    outcome: { type: String },
    status: { type: String, required: true, enum: interactionStatuses, default: 'scheduled' },
    scheduled_at: { type: Date },
    due_at: { type: Date },
    completed_at: { type: Date },
    // When the interaction happens: scheduled_at, else due_at, else the creation time. Never null, so lists
    // can sort and page on it and `from`/`to` filter on it.
    occurs_at: { type: Date, required: true },
    // UTC buckets of occurs_at for analytics (see utils/date-buckets.ts).
    day: { type: String, required: true },
    week: { type: String, required: true },
    month: { type: String, required: true },
  },
  { collection: 'interactions', timestamps, versionKey: false },
);

// Sorts (each with _id for keyset paging) and the scopes every list starts from: the owner (USER and
// /users/meetings), the customer (customer self-service and /interactions/customer/:id), type and status.
for (const sortField of ['occurs_at', 'created_at', 'updated_at']) {
  interactionSchema.index({ [sortField]: 1, _id: 1 });
  interactionSchema.index({ user: 1, [sortField]: 1, _id: 1 });
  interactionSchema.index({ customer: 1, [sortField]: 1, _id: 1 });
}
interactionSchema.index({ type: 1, occurs_at: 1, _id: 1 });
interactionSchema.index({ status: 1, occurs_at: 1, _id: 1 });

export type InteractionFields = InferSchemaType<typeof interactionSchema>;
export type InteractionRecord = InteractionFields & { _id: Types.ObjectId };
export const Interaction = mongoose.model('Interaction', interactionSchema);

/** The decrypted sensitive fields, which only staff see. */
export interface InteractionSecrets {
  notes: string | null;
  outcome: string | null;
}

/** The AES-GCM context of a sensitive field: the record id and field are bound into each ciphertext. */
export const interactionSecretContext = (id: Types.ObjectId, field: keyof InteractionSecrets) => `interaction:${id.toHexString()}:${field}`;

function publicFields(interaction: InteractionRecord) {
  const id = interaction._id.toHexString();
  return {
    id,
    interaction_id: id,
    customer_id: interaction.customer.toHexString(),
    user_id: interaction.user.toHexString(),
    type: interaction.type,
    title: interaction.title ?? null,
    status: interaction.status,
    scheduled_at: interaction.scheduled_at ?? null,
    due_at: interaction.due_at ?? null,
    completed_at: interaction.completed_at ?? null,
    occurs_at: interaction.occurs_at,
    created_at: interaction.created_at,
    updated_at: interaction.updated_at,
  };
}

/** What staff see: everything, sensitive fields decrypted. */
export function staffInteractionView(interaction: InteractionRecord, secrets: InteractionSecrets) {
  return { ...publicFields(interaction), notes: secrets.notes, outcome: secrets.outcome };
}

/** What a customer sees of its own interaction: no internal notes and no outcome (the rep's assessment). */
export function customerInteractionView(interaction: InteractionRecord) {
  return publicFields(interaction);
}

export type InteractionView = ReturnType<typeof publicFields> & Partial<InteractionSecrets>;
