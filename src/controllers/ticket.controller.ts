import type { Request, Response } from 'express';
import { parsedBody, parsedParams, parsedQuery } from '../middleware/validate';
import * as schemas from '../schemas/ticket.schema';
import * as ticketService from '../services/ticket.service';
import { sendPage } from './list-response';
import { currentPrincipal } from '../middleware/authenticate';

export async function listTickets(req: Request, res: Response) {
  sendPage(req, res, await ticketService.listTickets(parsedQuery(res, schemas.listTickets), currentPrincipal(res)));
}

export async function getTicket(_req: Request, res: Response) {
  res.json(await ticketService.getTicket(parsedParams(res, schemas.getTicket).ticket_id, currentPrincipal(res)));
}

export async function createTicket(_req: Request, res: Response) {
  const { interaction_id: interactionId } = parsedParams(res, schemas.createTicket);
  const { ticket } = await ticketService.createTicket(interactionId, parsedBody(res, schemas.createTicket), currentPrincipal(res));
  res.status(201).location(`/customers/tickets/${ticket.id}`).json(ticket);
}

export async function updateTicket(_req: Request, res: Response) {
  const { ticket_id: id } = parsedParams(res, schemas.updateTicket);
  const { ticket } = await ticketService.updateTicket(id, parsedBody(res, schemas.updateTicket), currentPrincipal(res));
  res.json({ message: 'Ticket updated successfully', ticket });
}

export async function deleteTicket(_req: Request, res: Response) {
  await ticketService.deleteTicket(parsedParams(res, schemas.deleteTicket).ticket_id, currentPrincipal(res));
  res.json({ message: 'Ticket deleted successfully' });
}
