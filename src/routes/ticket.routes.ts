import { z } from 'zod';
import * as tickets from '../controllers/ticket.controller';
import { commonErrors, errorResponses, listOf, ok } from '../openapi/registry';
import { messageResponse } from '../schemas/common.schema';
import * as schemas from '../schemas/ticket.schema';
import { route } from './route';

// The original's paths, under /customers.
const tags = ['tickets'];
const updated = z
  .object({ message: z.literal('Ticket updated successfully'), ticket: schemas.ticketResponse })
  .strict()
  .meta({ id: 'TicketUpdated' });
// OpenAPI forbids the original's two templates that differ only by the parameter's name: they are one URL,
// `/customers/ticket/{id}`, whose `id` names an interaction for POST and a ticket for PATCH and DELETE.
const ticketOrInteraction = '/customers/ticket/:id';
const visibility = 'ADMIN and MANAGER see every ticket; a USER those assigned to it or raised on its interactions; a customer its own.';

export const ticketRoutes = [
  route({
    method: 'get',
    path: '/customers/tickets',
    operationId: 'listTickets',
    permissions: ['tickets:read'],
    request: schemas.listTickets,
    handler: tickets.listTickets,
    tags,
    summary: 'List tickets',
    description: `${visibility} Filters: \`status\`, \`priority\`, \`assigned_to\`, \`customer_id\`. Default sort \`-created_at\`.`,
    responses: {
      200: listOf('Tickets', schemas.ticketResponse),
      ...errorResponses(400, 401, 403, 503, ...commonErrors),
    },
  }),
  route({
    method: 'get',
    path: '/customers/tickets/:ticket_id',
    operationId: 'getTicket',
    permissions: ['tickets:read'],
    request: schemas.getTicket,
    handler: tickets.getTicket,
    tags,
    summary: 'Read a ticket',
    description: `${visibility} Anything else answers 404.`,
    responses: {
      200: ok('The ticket', schemas.ticketResponse),
      ...errorResponses(400, 401, 403, 404, 503, ...commonErrors),
    },
  }),
  route({
    method: 'post',
    path: '/customers/ticket/:interaction_id',
    operationId: 'createTicket',
    documentedPath: ticketOrInteraction,
    permissions: ['tickets:create'],
    request: schemas.createTicket,
    handler: tickets.createTicket,
    tags,
    summary: 'Raise a ticket on an interaction',
    description:
      "`id` is the id of an interaction (PATCH and DELETE at this path take a ticket's). " +
      "On an interaction the caller may read (a USER's or a customer's own; any for ADMIN and MANAGER; 404 " +
      "otherwise). The ticket's customer is the interaction's; it is assigned to `assigned_to` (staff only, 403 " +
      "for a customer) or else to the interaction's owner. Status starts `open`.",
    responses: {
      201: ok('Created', schemas.ticketResponse),
      ...errorResponses(400, 401, 403, 404, 413, 415, 503, ...commonErrors),
    },
  }),
  route({
    method: 'patch',
    path: '/customers/ticket/:ticket_id',
    operationId: 'updateTicket',
    documentedPath: ticketOrInteraction,
    permissions: ['tickets:update', 'tickets:update-all'],
    request: schemas.updateTicket,
    handler: tickets.updateTicket,
    tags,
    summary: 'Update a ticket',
    description:
      "`id` is the ticket's id. Status moves: open → in_progress | closed; in_progress → resolved | closed; resolved → closed | open " +
      '(reopen). Any other move is 409 `INVALID_STATUS_TRANSITION` with the allowed statuses in `details`; ' +
      'sending the current status is a no-op. Resolving sets `resolved_at` and `resolution_seconds`; reopening ' +
      'clears them. ADMIN and MANAGER may change any ticket; a USER those assigned to it (403 for other visible ' +
      'tickets); a customer may edit the text of its open ticket (409 `TICKET_NOT_OPEN` otherwise) or close ' +
      'it, nothing else (403).',
    responses: {
      200: ok('Updated', updated),
      ...errorResponses(400, 401, 403, 404, 409, 413, 415, 503, ...commonErrors),
    },
  }),
  route({
    method: 'delete',
    path: '/customers/ticket/:ticket_id',
    operationId: 'deleteTicket',
    documentedPath: ticketOrInteraction,
    permissions: ['tickets:delete', 'tickets:delete-all'],
    request: schemas.deleteTicket,
    handler: tickets.deleteTicket,
    tags,
    summary: 'Delete a ticket (ADMIN, MANAGER; a customer its own open ticket)',
    description: "`id` is the ticket's id. A customer may delete its own ticket only while it is `open` (409 `TICKET_NOT_OPEN` otherwise).",
    responses: {
      200: ok('Deleted', messageResponse),
      ...errorResponses(400, 401, 403, 404, 409, 503, ...commonErrors),
    },
  }),
];
