import type mongoose from 'mongoose';
import { Interaction } from '../models/interaction.model';
import { Ticket } from '../models/ticket.model';
import { applyInteractionChanges, applyTicketChanges, removed, snapshotInteractions, snapshotTickets } from './analytics';

// What hangs off customers and staff users, so deleting either never leaves a dangling reference
// (customer.service and user.service decide when these run).

export async function customerDependents(customerId: mongoose.Types.ObjectId) {
  const [interactions, tickets] = await Promise.all([
    Interaction.countDocuments({ customer: customerId }),
    Ticket.countDocuments({ customer: customerId }),
  ]);
  return { interactions, tickets };
}

/** Of these customers, the ones that have interactions or tickets (as hex ids). */
export async function customersWithDependents(customerIds: mongoose.Types.ObjectId[]): Promise<Set<string>> {
  const filter = { customer: { $in: customerIds } };
  const lists: unknown[][] = await Promise.all([
    Interaction.collection.distinct('customer', filter),
    Ticket.collection.distinct('customer', filter),
  ]);
  return new Set(lists.flat().map((id) => String(id)));
}

export async function deleteCustomerDependents(customerId: mongoose.Types.ObjectId): Promise<void> {
  // Tickets first: an interruption leaves interactions without tickets, never tickets without an interaction.
  const [tickets, interactions] = await Promise.all([
    snapshotTickets({ customer: customerId }),
    snapshotInteractions({ customer: customerId }),
  ]);
  await Ticket.deleteMany({ customer: customerId });
  await applyTicketChanges(removed(tickets));
  await Interaction.deleteMany({ customer: customerId });
  await applyInteractionChanges(removed(interactions));
}

/** Interactions a user owns and tickets assigned to or raised by them. */
export async function userInteractionRecords(userId: mongoose.Types.ObjectId) {
  const [interactions, tickets] = await Promise.all([
    Interaction.countDocuments({ user: userId }),
    Ticket.countDocuments({ $or: [{ assigned_to: userId }, { creator_type: 'user', creator: userId }] }),
  ]);
  return { interactions, tickets };
}

export async function reassignUserInteractionRecords(from: mongoose.Types.ObjectId, to: mongoose.Types.ObjectId): Promise<void> {
  await Interaction.updateMany({ user: from }, { $set: { user: to } });
  await Ticket.updateMany({ interaction_user: from }, { $set: { interaction_user: to } });
  await Ticket.updateMany({ assigned_to: from }, { $set: { assigned_to: to } });
  await Ticket.updateMany({ creator_type: 'user', creator: from }, { $set: { creator: to } });
}
