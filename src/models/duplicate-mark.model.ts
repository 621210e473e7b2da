import { createHash } from 'node:crypto';
import mongoose, { type Types } from 'mongoose';

// One document per (duplicate key, customer) of a key that two or more customers shared when one of them was
// written (services/duplicates.service.ts): GET /customers/duplicates walks these in key order instead of
// grouping the customers collection. Only the customers that have a likely duplicate are here (5% in the
// benchmark), so a page costs the same at 10k and at 100k customers. Marks are derived data: one whose customer
// has left the collection (trash, merge) or changed its key is dropped when a read meets it.
const duplicateMarkSchema = new mongoose.Schema(
  {
    // `<key>\u0000<customer id>`: marking the same customer under the same key twice is one document.
    _id: { type: String, required: true },
    /** `phone:<phone_key>`, `email:<email_key>` or `name:<name_key>`: the rule, then the key. */
    key: { type: String, required: true },
    /** `<rule>:<12 hex digits>`, markSlot(key): where the mark lies in the walk of GET /customers/duplicates. */
    slot: { type: String, required: true },
    customer: { type: mongoose.Schema.Types.ObjectId, required: true },
    /** The customer's owner when marked: a USER's page walks only its own marks. */
    owner: { type: mongoose.Schema.Types.ObjectId },
    /** Rewritten by every mark: a read's clean-up deletes a mark only if nobody marked it again since it read it. */
    marked_at: { type: Date, required: true },
  },
  { collection: 'duplicate_marks', versionKey: false },
);

duplicateMarkSchema.index({ slot: 1, key: 1, customer: 1 });
duplicateMarkSchema.index({ owner: 1, slot: 1, key: 1, customer: 1 });
duplicateMarkSchema.index({ customer: 1 });

export interface DuplicateMarkRecord {
  _id: string;
  key: string;
  slot: string;
  customer: Types.ObjectId;
  owner?: Types.ObjectId | null;
  marked_at: Date;
}
export const DuplicateMark = mongoose.model('DuplicateMark', duplicateMarkSchema);

export const duplicateRules = ['phone', 'email', 'name'] as const;
export type DuplicateRule = (typeof duplicateRules)[number];

/** Slots of a rule: a mark's slot is the first 48 bits of its key's SHA-1, so a rule's marks lie evenly over them. */
export const MARK_SLOTS = 2 ** 48;

/** A slot number as the 12 hex digits its marks store (string order is number order). */
export function slotText(slot: number): string {
  if (!Number.isSafeInteger(slot) || slot < 0 || slot > MARK_SLOTS) throw new RangeError(`not a slot: ${slot}`);
  return slot.toString(16).padStart(12, '0');
}

/** The slot of a mark's key (`<rule>:<value>`): `<rule>:<12 hex digits>`. */
export function markSlot(key: string): string {
  return `${key.slice(0, key.indexOf(':'))}:${createHash('sha1').update(key).digest('hex').slice(0, 12)}`;
}
