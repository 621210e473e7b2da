import { Router } from 'express';
import * as activity from '../controllers/activity.controller';
import { authenticate, authorize } from '../middleware/authenticate';
import { validate } from '../middleware/validate';
import * as schemas from '../schemas/activity.schema';

export function activityRoutes(): Router {
  const router = Router();
  router.get('/activity', authenticate, authorize('activity:read-all'), validate(schemas.listActivity), activity.listActivity);
  router.get('/customers/:cust_id/activity', authenticate, authorize('activity:read'), validate(schemas.customerActivity), activity.customerActivity);
  return router;
}
