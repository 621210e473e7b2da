import { Router } from 'express';
import * as notifications from '../controllers/notification.controller';
import { authenticate, authorize } from '../middleware/authenticate';
import { validate } from '../middleware/validate';
import * as schemas from '../schemas/notification.schema';

export function notificationRoutes(): Router {
  const router = Router();
  router.get('/notifications', authenticate, authorize('notifications:read'), validate(schemas.listNotifications), notifications.listNotifications);
  router.post('/notifications/read-all', authenticate, authorize('notifications:read'), notifications.markAllRead);
  router.patch('/notifications/:notification_id/read', authenticate, authorize('notifications:read'), validate(schemas.markNotificationRead), notifications.markRead);
  return router;
}
