import mongoose, { type InferSchemaType, type Types } from 'mongoose';
import { timestamps } from './timestamps';

export const ticketStatuses = ['open', 'in_progress', 'resolved', 'closed'] as const;
export type TicketStatus = (typeof ticketStatuses)[number];
export const ticketPriorities = ['low', 'medium', 'high', 'urgent'] as const;

/** The only status moves (SPEC §5 lifecycle); anything else answers 409 with the allowed ones. */
export const ticketTransitions: Readonly<Record<TicketStatus, readonly TicketStatus[]>> = {
  open: ['in_progress', 'closed'],
  in_progress: ['resolved', 'closed'],
  resolved: ['closed', 'open'],
  closed: [],
};

const ticketSchema = new mongoose.Schema(
  {
    interaction: { type: mongoose.Schema.Types.ObjectId, ref: 'Interaction', required: true },
    // Always the interaction's customer (an interaction never changes customer).
    customer: { type: mongoose.Schema.Types.ObjectId, ref: 'Customer', required: true },
    // Copy of the interaction's owner, kept in step when it changes: a USER sees tickets raised on their
    // interactions, and FerretDB has no $lookup to find them by joining.
    interaction_user: { type: mongoose.Schema.Types.ObjectId, ref: 'User', required: true },
    title: { type: String, required: true, trim: true, maxlength: 200 },
    description: { type: String, trim: true, maxlength: 10_000 },
    status: { type: String, required: true, enum: ticketStatuses, default: 'open' },
    priority: { type: String, required: true, enum: ticketPriorities, default: 'medium' },
    assigned_to: { type: mongoose.Schema.Types.ObjectId, ref: 'User', default: null },
    // Who raised it: a staff user or the customer itself.
    creator_type: { type: String, required: true, enum: ['user', 'customer'] },
    creator: { type: mongoose.Schema.Types.ObjectId, required: true },
    resolved_at: { type: Date, default: null },
    // Analytics (utils/date-buckets.ts): creation and resolution buckets, and the resolution time.
    resolution_seconds: { type: Number, default: null },
    created_day: { type: String, required: true },
    created_week: { type: String, required: true },
    created_month: { type: String, required: true },
    resolved_day: { type: String, default: null },
    resolved_week: { type: String, default: null },
    resolved_month: { type: String, default: null },
  },
  { collection: 'tickets', timestamps, versionKey: false },
);

// Sorts with _id for keyset paging, the scopes (customer; USER: assigned or on own interactions) and the
// list filters; `interaction` serves the has-tickets check before an interaction is deleted.
for (const sortField of ['created_at', 'updated_at']) {
  ticketSchema.index({ [sortField]: 1, _id: 1 });
  ticketSchema.index({ customer: 1, [sortField]: 1, _id: 1 });
  ticketSchema.index({ assigned_to: 1, [sortField]: 1, _id: 1 });
  ticketSchema.index({ interaction_user: 1, [sortField]: 1, _id: 1 });
}
ticketSchema.index({ status: 1, created_at: 1, _id: 1 });
ticketSchema.index({ priority: 1, created_at: 1, _id: 1 });
ticketSchema.index({ interaction: 1 });

export type TicketFields = InferSchemaType<typeof ticketSchema>;
export type TicketRecord = TicketFields & { _id: Types.ObjectId };
export const Ticket = mongoose.model('Ticket', ticketSchema);

/** The public shape of a ticket: `id` and `ticket_id`, snake_case references as ids. */
export function ticketView(ticket: TicketRecord) {
  const id = ticket._id.toHexString();
  return {
    id,
    ticket_id: id,
    interaction_id: ticket.interaction.toHexString(),
    customer_id: ticket.customer.toHexString(),
    title: ticket.title,
    description: ticket.description ?? null,
    status: ticket.status,
    priority: ticket.priority,
    assigned_to: ticket.assigned_to ? ticket.assigned_to.toHexString() : null,
    created_by: { type: ticket.creator_type, id: ticket.creator.toHexString() },
    resolved_at: ticket.resolved_at ?? null,
    resolution_seconds: ticket.resolution_seconds ?? null,
    created_at: ticket.created_at,
    updated_at: ticket.updated_at,
  };
}
export type TicketView = ReturnType<typeof ticketView>;
