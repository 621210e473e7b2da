import type { Types } from 'mongoose';
import { concurrently, sessionOption } from '../../database/transaction';
import { Activity } from '../../models/activity.model';
import { Interaction } from '../../models/interaction.model';
import { movedKinds, type MergeConflict, type MovedIds, type MovedKind } from '../../models/merge.model';
import { Notification } from '../../models/notification.model';
import { Ticket } from '../../models/ticket.model';
import { applyInteractionChanges, applyTicketChanges, snapshotInteractions, snapshotTickets } from '../analytics';

// The records that reference a customer (every model with a customer field: interactions and tickets by
// `customer`, notifications addressed to the customer or about it, timeline entries by `customer`), moved from
// the sources of a merge to its target and, on undo, back. Each move names its records by id and by the
// customer they must still point at, so running a step twice changes nothing more (FerretDB: no transactions).

type Id = Types.ObjectId;
export type MovedFrom = MovedIds & { source: Id };

const idsOf = (rows: { _id: Id }[]) => rows.map((row) => row._id);
const byCustomer = (customers: Id[]) => ({ customer: { $in: customers } });
const notificationsOf = (customers: Id[]) => ({
  $or: [
    { recipient_type: 'customer', recipient: { $in: customers } },
    { entity: 'customer', entity_id: { $in: customers } },
  ],
});

/** The records of each source, by kind (read before anything moves: what the merge record names). */
export async function findDependents(sources: Id[]): Promise<MovedFrom[]> {
  const projection = { projection: { _id: 1 }, ...sessionOption() };
  return Promise.all(
    sources.map(async (source) => {
      const [interactions, tickets, notifications, activities] = await Promise.all([
        Interaction.collection.find<{ _id: Id }>(byCustomer([source]), projection).toArray(),
        Ticket.collection.find<{ _id: Id }>(byCustomer([source]), projection).toArray(),
        Notification.collection.find<{ _id: Id }>(notificationsOf([source]), projection).toArray(),
        Activity.collection.find<{ _id: Id }>(byCustomer([source]), projection).toArray(),
      ]);
      return {
        source,
        interactions: idsOf(interactions),
        tickets: idsOf(tickets),
        notifications: idsOf(notifications),
        activities: idsOf(activities),
      };
    }),
  );
}

/** The same ids, all sources together. */
export function flatten(movedFrom: MovedFrom[]): MovedIds {
  return {
    interactions: movedFrom.flatMap((m) => m.interactions),
    tickets: movedFrom.flatMap((m) => m.tickets),
    notifications: movedFrom.flatMap((m) => m.notifications),
    activities: movedFrom.flatMap((m) => m.activities),
  };
}

/**
 * Points these records, where they still point at `from`, at `to`. The analytics counters follow the change of
 * customer (before/after snapshots), as every other write of interactions and tickets does.
 */
async function repoint(ids: MovedIds, from: Id, to: Id): Promise<void> {
  const [interactions, tickets] = await Promise.all([
    snapshotInteractions({ _id: { $in: ids.interactions }, customer: from }),
    snapshotTickets({ _id: { $in: ids.tickets }, customer: from }),
  ]);
  const where = (list: Id[]) => ({ _id: { $in: list } });
  const options = sessionOption();
  await concurrently(
    () => Interaction.collection.updateMany({ ...where(ids.interactions), customer: from }, { $set: { customer: to } }, options),
    () => Ticket.collection.updateMany({ ...where(ids.tickets), customer: from }, { $set: { customer: to } }, options),
    () =>
      Notification.collection.updateMany(
        { ...where(ids.notifications), recipient_type: 'customer', recipient: from },
        { $set: { recipient: to } },
        options,
      ),
    () =>
      Notification.collection.updateMany(
        { ...where(ids.notifications), entity: 'customer', entity_id: from },
        { $set: { entity_id: to } },
        options,
      ),
    () => Activity.collection.updateMany({ ...where(ids.activities), customer: from }, { $set: { customer: to } }, options),
  );
  await concurrently(
    () => applyInteractionChanges(interactions.map((before) => ({ before, after: { ...before, customer: to } }))),
    () => applyTicketChanges(tickets.map((before) => ({ before, after: { ...before, customer: to } }))),
  );
}

/** Moves every source's records to the target. */
export async function moveToTarget(movedFrom: MovedFrom[], target: Id): Promise<void> {
  for (const moved of movedFrom) await repoint(moved, moved.source, target);
}

interface Pointer {
  _id: Id;
  customer?: Id;
  recipient_type?: string;
  recipient?: Id;
  entity?: string;
  entity_id?: Id;
}
const models = { interactions: Interaction, tickets: Ticket, notifications: Notification, activities: Activity };

function pointsAt(kind: MovedKind, row: Pointer, customer: Id): boolean {
  if (kind !== 'notifications') return row.customer?.equals(customer) ?? false;
  return (
    (row.recipient_type === 'customer' && (row.recipient?.equals(customer) ?? false)) ||
    (row.entity === 'customer' && (row.entity_id?.equals(customer) ?? false))
  );
}

/**
 * Of what the merge moved, the records that still point at the target (they go back) and the others: deleted
 * since, or pointing elsewhere (conflicts, left as they are).
 */
export async function splitMovable(movedFrom: MovedFrom[], target: Id): Promise<{ movable: MovedFrom[]; conflicts: MergeConflict[] }> {
  const conflicts: MergeConflict[] = [];
  const movable = await Promise.all(
    movedFrom.map(async (moved) => {
      const kept: MovedFrom = { source: moved.source, interactions: [], tickets: [], notifications: [], activities: [] };
      for (const kind of movedKinds) {
        const rows = await models[kind].collection
          .find<Pointer>(
            { _id: { $in: moved[kind] } },
            { projection: { customer: 1, recipient_type: 1, recipient: 1, entity: 1, entity_id: 1 }, ...sessionOption() },
          )
          .toArray();
        const found = new Map(rows.map((row) => [row._id.toHexString(), row]));
        for (const id of moved[kind]) {
          const row = found.get(id.toHexString());
          if (row && pointsAt(kind, row, target)) kept[kind].push(id);
          // Back already: an interrupted undo's rerun (no transactions) finds it done.
          else if (row && pointsAt(kind, row, moved.source)) continue;
          else
            conflicts.push({
              kind,
              id: id.toHexString(),
              reason: row ? 'moved to another customer since the merge' : 'deleted since the merge',
            });
        }
      }
      return kept;
    }),
  );
  return { movable, conflicts };
}

/** Moves these records back from the target to the source each came from. */
export async function moveBack(movable: MovedFrom[], target: Id): Promise<void> {
  for (const moved of movable) await repoint(moved, target, moved.source);
}
