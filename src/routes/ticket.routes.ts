import { Router } from 'express';
import * as tickets from '../controllers/ticket.controller';
import { authenticate, authorize } from '../middleware/authenticate';
import { validate } from '../middleware/validate';
import * as schemas from '../schemas/ticket.schema';

// The original's paths, under /customers. Mounted before customerRoutes: `/customers/tickets` would otherwise
// be taken for `/customers/:cust_id`.
export function ticketRoutes(): Router {
  const router = Router();
  router.get('/customers/tickets', authenticate, authorize('tickets:read'), validate(schemas.listTickets), tickets.listTickets);
  router.get('/customers/tickets/:ticket_id', authenticate, authorize('tickets:read'), validate(schemas.getTicket), tickets.getTicket);
  router.post('/customers/ticket/:interaction_id', authenticate, authorize('tickets:create'), validate(schemas.createTicket), tickets.createTicket);
  router.patch('/customers/ticket/:ticket_id', authenticate, authorize('tickets:update', 'tickets:update-all'), validate(schemas.updateTicket), tickets.updateTicket);
  router.delete('/customers/ticket/:ticket_id', authenticate, authorize('tickets:delete', 'tickets:delete-all'), validate(schemas.deleteTicket), tickets.deleteTicket);
  return router;
}
