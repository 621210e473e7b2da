import { z } from 'zod';
import { ticketPriorities, ticketStatuses } from '../models/ticket.model';
import { pagingQuery } from '../utils/paging';
import { notBlank, objectId, someField } from './common.schema';

const status = z.enum(ticketStatuses).meta({ example: 'open' });
const priority = z.enum(ticketPriorities).meta({ example: 'high' });
const title = z.string().trim().min(1).max(200).meta({ pattern: notBlank, example: 'Invoice shows the wrong amount' });
const description = z.string().trim().max(10_000).meta({ example: 'The September invoice charges twice.' });
const dateTime = z.string().meta({ format: 'date-time' });

export const ticketResponse = z
  .object({
    id: objectId,
    ticket_id: objectId,
    interaction_id: objectId,
    customer_id: objectId.meta({ description: "Always the interaction's customer" }),
    title: z.string(),
    description: z.string().nullable(),
    status,
    priority,
    assigned_to: objectId.nullable().meta({ description: 'Staff user working on it' }),
    created_by: z.object({ type: z.enum(['user', 'customer']), id: objectId }).strict(),
    resolved_at: dateTime.nullable().meta({ description: 'Set on resolving, cleared on reopening' }),
    resolution_seconds: z.number().nullable().meta({ description: 'Seconds from creation to resolution' }),
    created_at: dateTime,
    updated_at: dateTime,
  })
  .strict()
  .meta({ id: 'Ticket' });

const ticketParams = z.object({ ticket_id: objectId.meta({ description: 'The ticket' }) }).strict();

export const createTicket = {
  params: z.object({ interaction_id: objectId.meta({ description: 'The interaction to raise the ticket on (not a ticket id)' }) }).strict(),
  body: z
    .object({
      title,
      description: description.optional(),
      priority: priority.optional().meta({ description: 'Defaults to medium' }),
      assigned_to: objectId.optional().meta({ description: "Staff only; defaults to the interaction's owner" }),
    })
    .strict()
    .meta({ id: 'TicketCreate', example: { title: 'Invoice shows the wrong amount', priority: 'high' } }),
};

export const updateTicket = {
  params: ticketParams,
  body: someField(
    z
      .object({
        title: title.optional(),
        description: description.nullable().optional(),
        status: status.optional(),
        priority: priority.optional(),
        assigned_to: objectId.nullable().optional(),
      })
      .strict(),
  ).meta({ id: 'TicketUpdate', example: { status: 'in_progress' } }),
};

export const listTickets = {
  query: z
    .object({
      ...pagingQuery(['created_at', 'updated_at'] as const, '-created_at'),
      status: status.optional(),
      priority: priority.optional(),
      assigned_to: objectId.optional().meta({ description: 'Assigned staff user' }),
      customer_id: objectId.optional(),
    })
    .strict(),
};

export const getTicket = { params: ticketParams };
export const deleteTicket = { params: ticketParams };

export type CreateTicketBody = z.output<typeof createTicket.body>;
export type UpdateTicketBody = z.output<typeof updateTicket.body>;
export type ListTicketsQuery = z.output<typeof listTickets.query>;
