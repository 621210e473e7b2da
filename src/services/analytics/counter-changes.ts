import type mongoose from 'mongoose';
import { currentSession, insertDocuments, sessionOption } from '../../database/transaction';
import { AnalyticsDelta, type AnalyticsDeltaEntry } from '../../models/analytics-counter.model';
import { Customer } from '../../models/customer.model';
import { Interaction } from '../../models/interaction.model';
import { Ticket } from '../../models/ticket.model';
import { logger } from '../../utils/logger';
import {
  collectChanges,
  customerContributions,
  customerFields,
  interactionContributions,
  interactionFields,
  nonZeroFields,
  ticketContributions,
  ticketFields,
  type Change,
  type CustomerLike,
  type Increments,
  type InteractionLike,
  type TicketLike,
} from './contributions';
import { markCountersStale } from './counter-rebuild';

// Every create, update and delete of a customer, interaction or ticket calls one of the apply*Changes
// functions with the record before and after; the difference (increments of at most three counter documents
// per entity: its day, its month and the all-time totals) is inserted as one delta document, folded into the
// counters before the next read (counter-fold.ts). Bulk writers (the importer, cascades) pass a whole batch at
// once: one delta, never a rebuild.

/** Records the increments as one pending delta document (an insert: atomic on MongoDB and FerretDB alike). */
async function writeDelta(increments: Increments): Promise<void> {
  const entries: AnalyticsDeltaEntry[] = [];
  for (const [id, counter] of increments) {
    for (const [path, fields] of counter.paths) {
      const kept = nonZeroFields(fields);
      if (kept) entries.push({ id, e: counter.entity, p: path, f: kept });
    }
  }
  if (entries.length === 0) return;
  await insertDocuments(AnalyticsDelta.collection, [{ u: entries }]);
}

async function recordIncrements(increments: Increments): Promise<void> {
  try {
    await writeDelta(increments);
  } catch (error) {
    // In a transaction the entity write fails with its delta: nothing is saved, the counters stay right.
    if (currentSession()) throw error;
    // The entity itself is saved; rather than serve wrong figures, the next analytics read rebuilds.
    logger.warn({ err: error }, 'analytics counters could not be updated; marking them for a rebuild');
    await markCountersStale().catch(() => undefined);
  }
}

/**
 * Records customer creations (before null), updates and deletions (after null) in the counters. Bulk writers
 * (the importer) call it once per batch: the batch becomes one small delta document.
 */
export function applyCustomerChanges(changes: readonly Change<CustomerLike>[]): Promise<void> {
  return recordIncrements(collectChanges(changes, customerContributions));
}

/** Records interaction creations, updates and deletions in the counters. */
export function applyInteractionChanges(changes: readonly Change<InteractionLike>[]): Promise<void> {
  return recordIncrements(collectChanges(changes, interactionContributions));
}

/** Records ticket creations, updates and deletions in the counters. */
export function applyTicketChanges(changes: readonly Change<TicketLike>[]): Promise<void> {
  return recordIncrements(collectChanges(changes, ticketContributions));
}

// ---- helpers for bulk writes (cascades, reassignment): read what the counters need before the write ----

type Filter = Record<string, unknown>;

export function snapshotCustomers(filter: Filter): Promise<CustomerLike[]> {
  return Customer.collection.find<CustomerLike>(filter, { projection: customerFields, ...sessionOption() }).toArray();
}

export function snapshotInteractions(filter: Filter): Promise<InteractionLike[]> {
  return Interaction.collection.find<InteractionLike>(filter, { projection: interactionFields, ...sessionOption() }).toArray();
}

export function snapshotTickets(filter: Filter): Promise<TicketLike[]> {
  return Ticket.collection.find<TicketLike>(filter, { projection: ticketFields, ...sessionOption() }).toArray();
}

/** The changes that delete these records. */
export const removed = <T>(records: readonly T[]): Change<T>[] => records.map((before) => ({ before, after: null }));

/**
 * A staff user's records handed to another (user deletion with reassign_to): call before the updates, run the
 * returned function after them.
 */
export async function prepareReassignment(from: mongoose.Types.ObjectId, to: mongoose.Types.ObjectId): Promise<() => Promise<void>> {
  const [customers, interactions, tickets] = await Promise.all([
    snapshotCustomers({ owner: from }),
    snapshotInteractions({ user: from }),
    snapshotTickets({ assigned_to: from }),
  ]);
  return async () => {
    await applyCustomerChanges(customers.map((before) => ({ before, after: { ...before, owner: to } })));
    await applyInteractionChanges(interactions.map((before) => ({ before, after: { ...before, user: to } })));
    await applyTicketChanges(tickets.map((before) => ({ before, after: { ...before, assigned_to: to } })));
  };
}
