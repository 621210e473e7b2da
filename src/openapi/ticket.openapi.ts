import { z } from 'zod';
import { messageResponse } from '../schemas/common.schema';
import * as s from '../schemas/ticket.schema';
import { authenticated, commonErrors, errorResponses, jsonBody, listOf, ok, registry } from './registry';

const tags = ['tickets'];
const updated = z.object({ message: z.literal('Ticket updated successfully'), ticket: s.ticketResponse }).strict().meta({ id: 'TicketUpdated' });
const visibility =
  'ADMIN and MANAGER see every ticket; a USER those assigned to it or raised on its interactions; a customer its own.';

registry.registerPath({
  method: 'get',
  path: '/customers/tickets',
  tags,
  summary: 'List tickets',
  description: `${visibility} Filters: \`status\`, \`priority\`, \`assigned_to\`, \`customer_id\`. Default sort \`-created_at\`.`,
  security: authenticated,
  request: { query: s.listTickets.query },
  responses: {
    200: listOf('Tickets', s.ticketResponse),
    ...errorResponses(400, 401, 403, 503, ...commonErrors),
  },
});

registry.registerPath({
  method: 'get',
  path: '/customers/tickets/{ticket_id}',
  tags,
  summary: 'Read a ticket',
  description: `${visibility} Anything else answers 404.`,
  security: authenticated,
  request: { params: s.getTicket.params },
  responses: {
    200: ok('The ticket', s.ticketResponse),
    ...errorResponses(400, 401, 403, 404, 503, ...commonErrors),
  },
});

registry.registerPath({
  method: 'post',
  path: '/customers/ticket/{interaction_id}',
  tags,
  summary: 'Raise a ticket on an interaction',
  description:
    "On an interaction the caller may read (a USER's or a customer's own; any for ADMIN and MANAGER; 404 " +
    "otherwise). The ticket's customer is the interaction's; it is assigned to `assigned_to` (staff only, 403 " +
    "for a customer) or else to the interaction's owner. Status starts `open`.",
  security: authenticated,
  request: { params: s.createTicket.params, ...jsonBody(s.createTicket.body) },
  responses: {
    201: ok('Created', s.ticketResponse),
    ...errorResponses(400, 401, 403, 404, 413, 415, 503, ...commonErrors),
  },
});

registry.registerPath({
  method: 'patch',
  path: '/customers/ticket/{ticket_id}',
  tags,
  summary: 'Update a ticket',
  description:
    'Status moves: open → in_progress | closed; in_progress → resolved | closed; resolved → closed | open ' +
    '(reopen). Any other move is 409 `INVALID_STATUS_TRANSITION` with the allowed statuses in `details`; ' +
    'sending the current status is a no-op. Resolving sets `resolved_at` and `resolution_seconds`; reopening ' +
    'clears them. ADMIN and MANAGER may change any ticket; a USER those assigned to it (403 for other visible ' +
    'tickets); a customer may edit the text of its open ticket (409 `TICKET_NOT_OPEN` otherwise) or close ' +
    'it, nothing else (403).',
  security: authenticated,
  request: { params: s.updateTicket.params, ...jsonBody(s.updateTicket.body) },
  responses: {
    200: ok('Updated', updated),
    ...errorResponses(400, 401, 403, 404, 409, 413, 415, 503, ...commonErrors),
  },
});

registry.registerPath({
  method: 'delete',
  path: '/customers/ticket/{ticket_id}',
  tags,
  summary: 'Delete a ticket (ADMIN, MANAGER; a customer its own open ticket)',
  description: 'A customer may delete its own ticket only while it is `open` (409 `TICKET_NOT_OPEN` otherwise).',
  security: authenticated,
  request: { params: s.deleteTicket.params },
  responses: {
    200: ok('Deleted', messageResponse),
    ...errorResponses(400, 401, 403, 404, 409, 503, ...commonErrors),
  },
});
