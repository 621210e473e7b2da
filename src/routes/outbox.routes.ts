import { Router } from 'express';
import * as outbox from '../controllers/outbox.controller';
import { authenticate, authorize } from '../middleware/authenticate';
import { validate } from '../middleware/validate';
import * as schemas from '../schemas/outbox.schema';

export function outboxRoutes(): Router {
  const router = Router();
  router.get('/admin/outbox', authenticate, authorize('outbox:manage'), validate(schemas.listOutbox), outbox.listOutbox);
  router.post('/admin/outbox/:message_id/retry', authenticate, authorize('outbox:manage'), validate(schemas.retryOutboxMessage), outbox.retryMessage);
  return router;
}
