import { Router } from 'express';
import * as analytics from '../controllers/analytics.controller';
import { authenticate, authorize } from '../middleware/authenticate';
import { validate } from '../middleware/validate';
import * as schemas from '../schemas/analytics.schema';

// Analytics (SPEC §3): ADMIN and MANAGER see all figures, a USER its own; customers are refused (403).
export function analyticsRoutes(): Router {
  const router = Router();
  const read = authorize('analytics:read', 'analytics:read-all');
  router.get('/analytics/overview', authenticate, read, validate(schemas.overview), analytics.overview);
  router.get('/analytics/interactions', authenticate, read, validate(schemas.interactions), analytics.interactions);
  router.get('/analytics/tickets', authenticate, read, validate(schemas.tickets), analytics.tickets);
  router.get('/analytics/customers', authenticate, read, validate(schemas.customers), analytics.customers);
  router.get('/analytics/users', authenticate, authorize('analytics:read-all'), validate(schemas.users), analytics.users);
  return router;
}
