import mongoose from 'mongoose';
import { Interaction } from '../models/interaction.model';
import { Ticket, ticketTransitions, ticketView, type TicketRecord, type TicketStatus, type TicketView } from '../models/ticket.model';
import type { CreateTicketBody, ListTicketsQuery, UpdateTicketBody } from '../schemas/ticket.schema';
import { AppError, type ErrorDetail } from '../utils/app-error';
import { dateBuckets } from '../utils/date-buckets';
import { allOf } from '../utils/filters';
import { paginate } from '../database/paginate';
import type { Page } from '../utils/paging';
import { can, type Principal } from '../utils/principal';
import { patchFields, updateDocument } from '../utils/update-document';
import { concurrently, inTransaction } from '../database/transaction';
import * as activity from './activity.service';
import { trashRecords } from './trash.service';
import { applyTicketChanges } from './analytics';
import { findReadableInteraction, toObjectId } from './interaction.service';
import * as notify from './notifications';
import { assertStaffUser } from './user.service';

// Tickets (SPEC §3): ADMIN/MANAGER see and change all; a USER sees those assigned to them or raised on their
// interactions and changes those assigned to them; a customer sees its own, edits an open one's text,
// closes it, or deletes it while open. Mutations record the change themselves (counters, activity,
// notifications) and return the records before and after it besides the caller's view.

export interface TicketChange {
  before: TicketRecord | null;
  after: TicketRecord | null;
  ticket: TicketView;
}

type TicketFilters = Omit<ListTicketsQuery, 'page' | 'limit' | 'sort' | 'after'>;

function readScope(principal: Principal): Record<string, unknown> {
  const self = toObjectId(principal.id);
  if (principal.type === 'customer') return { customer: self };
  if (can(principal, 'tickets:read-all')) return {};
  return { $or: [{ assigned_to: self }, { interaction_user: self }] };
}

/** The Mongo filter for the list filters. */
function ticketFilter(filters: TicketFilters): Record<string, unknown> {
  const filter: Record<string, unknown> = {};
  if (filters.status) filter.status = filters.status;
  if (filters.priority) filter.priority = filters.priority;
  if (filters.assigned_to) filter.assigned_to = toObjectId(filters.assigned_to);
  if (filters.customer_id) filter.customer = toObjectId(filters.customer_id);
  return filter;
}

export async function listTickets(query: ListTicketsQuery, principal: Principal): Promise<Page<TicketView>> {
  const page = await paginate(Ticket, allOf(readScope(principal), ticketFilter(query)), query);
  return { ...page, items: page.items.map(ticketView) };
}

async function findReadableTicket(id: string, principal: Principal): Promise<TicketRecord> {
  const ticket = await Ticket.findOne({ ...readScope(principal), _id: toObjectId(id) }).lean<TicketRecord>();
  if (!ticket) throw AppError.notFound('Ticket');
  return ticket;
}

export async function getTicket(id: string, principal: Principal): Promise<TicketView> {
  return ticketView(await findReadableTicket(id, principal));
}

const resolvedCleared = { resolved_at: null, resolution_seconds: null, resolved_day: null, resolved_week: null, resolved_month: null };

/**
 * Raises a ticket on an interaction the caller may read (a USER's or a customer's own; any for ADMIN and
 * MANAGER). Its customer is the interaction's; it goes to `assigned_to` or else the interaction's owner.
 */
export async function createTicket(interactionId: string, input: CreateTicketBody, principal: Principal): Promise<TicketChange> {
  return inTransaction(async () => {
    const interaction = await findReadableInteraction(interactionId, principal);
    if (input.assigned_to !== undefined) {
      if (principal.type === 'customer') throw AppError.forbidden('A customer cannot assign tickets');
      await assertStaffUser(input.assigned_to, 'assigned_to');
    }
    const id = new mongoose.Types.ObjectId();
    const now = new Date();
    const created = dateBuckets(now);
    const ticket = await Ticket.create({
      _id: id,
      interaction: interaction._id,
      customer: interaction.customer,
      interaction_user: interaction.user,
      title: input.title,
      description: input.description,
      priority: input.priority ?? 'medium',
      assigned_to: input.assigned_to === undefined ? interaction.user : toObjectId(input.assigned_to),
      creator_type: principal.type,
      creator: toObjectId(principal.id),
      created_at: now,
      created_day: created.day,
      created_week: created.week,
      created_month: created.month,
      ...resolvedCleared,
    });
    // No transactions on FerretDB: if the interaction was deleted meanwhile, do not leave a dangling ticket.
    if (!(await Interaction.exists({ _id: interaction._id }))) {
      await Ticket.deleteOne({ _id: id });
      throw AppError.notFound('Interaction');
    }
    const after = ticket.toObject<TicketRecord>();
    await concurrently(
      () => applyTicketChanges([{ before: null, after }]),
      () => activity.recordChange(principal, 'ticket', null, after),
      () => notify.ticketRaised(after),
    );
    return { before: null, after, ticket: ticketView(after) };
  });
}

function transitionConflict(from: TicketStatus, to: TicketStatus): AppError {
  const allowed = ticketTransitions[from];
  const details: ErrorDetail[] = allowed.map((status) => ({ location: 'body', field: 'status', message: status }));
  const listed = allowed.length > 0 ? `allowed: ${allowed.join(', ')}` : 'a closed ticket does not move';
  return AppError.conflict(`A ticket cannot move from ${from} to ${to} (${listed})`, details, 'INVALID_STATUS_TRANSITION');
}

/** What a customer may change: the text of its open ticket, and closing it. */
function checkCustomerChanges(before: TicketRecord, changes: UpdateTicketBody): void {
  const statusChange = changes.status !== undefined && changes.status !== before.status;
  if (changes.priority !== undefined || changes.assigned_to !== undefined || (statusChange && changes.status !== 'closed')) {
    throw AppError.forbidden('A customer may only edit the text of its open ticket or close it');
  }
  if ((changes.title !== undefined || changes.description !== undefined) && before.status !== 'open') {
    throw AppError.conflict(
      'Only an open ticket can be edited',
      [{ location: 'body', field: 'status', message: before.status }],
      'TICKET_NOT_OPEN',
    );
  }
}

function statusChanges(before: TicketRecord, to: TicketStatus, now: Date): Record<string, unknown> {
  const from = before.status;
  if (!ticketTransitions[from].includes(to)) throw transitionConflict(from, to);
  if (to === 'resolved') {
    const resolved = dateBuckets(now);
    return {
      status: to,
      resolved_at: now,
      resolution_seconds: Math.max(0, Math.round((now.getTime() - before.created_at.getTime()) / 1000)),
      resolved_day: resolved.day,
      resolved_week: resolved.week,
      resolved_month: resolved.month,
    };
  }
  // Reopening forgets the resolution; closing a resolved ticket keeps it.
  if (from === 'resolved' && to === 'open') return { status: to, ...resolvedCleared };
  return { status: to };
}

export async function updateTicket(id: string, changes: UpdateTicketBody, principal: Principal): Promise<TicketChange> {
  return inTransaction(async () => {
    const before = await findReadableTicket(id, principal);
    if (principal.type === 'customer') checkCustomerChanges(before, changes);
    else if (!can(principal, 'tickets:update-all') && before.assigned_to?.toHexString() !== principal.id) {
      throw AppError.forbidden('Only the assigned user, an ADMIN or a MANAGER may change this ticket');
    }
    if (changes.assigned_to) await assertStaffUser(changes.assigned_to, 'assigned_to');

    const { set, unset } = patchFields({ title: changes.title, description: changes.description, priority: changes.priority });
    // Unassigning stores null, the model's default for an unassigned ticket, rather than removing the field.
    if (changes.assigned_to !== undefined) set.assigned_to = changes.assigned_to === null ? null : toObjectId(changes.assigned_to);
    // Sending the current status again is a no-op, not a move.
    if (changes.status !== undefined && changes.status !== before.status)
      Object.assign(set, statusChanges(before, changes.status, new Date()));

    // Nothing to change (e.g. only the current status sent again): a no-op, nothing written, updated_at kept.
    if (Object.keys(set).length === 0 && Object.keys(unset).length === 0) return { before, after: before, ticket: ticketView(before) };

    // Conditional on the status read above, so two concurrent moves cannot both apply.
    const result = await Ticket.updateOne({ _id: before._id, status: before.status }, updateDocument({ set, unset }), {
      runValidators: true,
    });
    if (result.matchedCount === 0) throw AppError.conflict('The ticket changed meanwhile; read it again and retry');
    const after = await Ticket.findById(before._id).lean<TicketRecord>();
    if (!after) throw AppError.notFound('Ticket');
    await concurrently(
      () => applyTicketChanges([{ before, after }]),
      () => activity.recordChange(principal, 'ticket', before, after),
      () => notify.ticketUpdated(before, after),
    );
    return { before, after, ticket: ticketView(after) };
  });
}

/** ADMIN and MANAGER delete any ticket; a customer only its own while it is still open. */
export async function deleteTicket(id: string, principal: Principal) {
  return inTransaction(async () => {
    const before = await findReadableTicket(id, principal);
    if (principal.type === 'customer') {
      if (before.status !== 'open') {
        throw AppError.conflict(
          'Only an open ticket can be deleted',
          [{ location: 'params', field: 'status', message: before.status }],
          'TICKET_NOT_OPEN',
        );
      }
    } else if (!can(principal, 'tickets:delete-all')) {
      throw AppError.forbidden();
    }
    await trashRecords({ tickets: [before], root: { entity: 'ticket', record_id: before._id }, reason: 'delete', principal });
    return { before, after: null };
  });
}
