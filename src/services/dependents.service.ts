import type mongoose from 'mongoose';
import { sessionOption } from '../database/transaction';
import { typedCollection } from '../database/typed-collection';
import { Interaction, type InteractionRecord } from '../models/interaction.model';
import { Ticket, type TicketRecord } from '../models/ticket.model';

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

/** A customer's interactions and tickets as stored (a deletion moves them to the trash with it). */
export async function customerDependentRecords(customerId: mongoose.Types.ObjectId) {
  const [interactions, tickets] = await Promise.all([
    typedCollection<InteractionRecord>(Interaction).find({ customer: customerId }, sessionOption()).toArray(),
    typedCollection<TicketRecord>(Ticket).find({ customer: customerId }, sessionOption()).toArray(),
  ]);
  return { interactions, tickets };
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
