import { Router } from 'express';
import * as interactions from '../controllers/interaction.controller';
import { authenticate, authorize } from '../middleware/authenticate';
import { validate } from '../middleware/validate';
import * as schemas from '../schemas/interaction.schema';

// Mounted before userRoutes: `/users/meetings` would otherwise be taken for `/users/:user_id`.
export function interactionRoutes(): Router {
  const router = Router();
  const read = [authenticate, authorize('interactions:read')];
  const write = [authenticate, authorize('interactions:write')];
  router.get('/users/meetings', ...read, validate(schemas.listInteractions), interactions.listMyInteractions);
  router.post('/users/meetings/:customer_id', ...write, validate(schemas.scheduleMeeting), interactions.scheduleMeeting);
  router.get('/interactions', ...read, validate(schemas.listInteractions), interactions.listInteractions);
  router.post('/interactions', ...write, validate(schemas.createInteraction), interactions.createInteraction);
  router.get('/interactions/user/:user_id', ...read, validate(schemas.listUserInteractions), interactions.listUserInteractions);
  router.get('/interactions/customer/:cust_id', ...read, validate(schemas.listCustomerInteractions), interactions.listCustomerInteractions);
  router.get('/interactions/:interaction_id', ...read, validate(schemas.getInteraction), interactions.getInteraction);
  router.patch('/interactions/:interaction_id', ...write, validate(schemas.updateInteraction), interactions.updateInteraction);
  router.delete('/interactions/:interaction_id', ...write, validate(schemas.deleteInteraction), interactions.deleteInteraction);
  return router;
}
