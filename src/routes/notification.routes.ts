import * as notifications from '../controllers/notification.controller';
import { commonErrors, errorResponses, listOf, ok } from '../openapi/registry';
import * as schemas from '../schemas/notification.schema';
import { route } from './route';

const tags = ['notifications'];

export const notificationRoutes = [
  route({
    method: 'get',
    path: '/notifications',
    operationId: 'listNotifications',
    permissions: ['notifications:read'],
    request: schemas.listNotifications,
    handler: notifications.listNotifications,
    tags,
    summary: "The caller's in-app notifications",
    description:
      'Staff users and customers each see only their own notifications, newest first. `unread=true` keeps ' +
      'those not yet read. Events: meetings scheduled, rescheduled, completed or cancelled; tickets raised or ' +
      'changing status; welcome; password changed.',
    responses: {
      200: listOf('Notifications', schemas.notificationResponse),
      ...errorResponses(400, 401, 403, 503, ...commonErrors),
    },
  }),
  route({
    method: 'patch',
    path: '/notifications/:notification_id/read',
    operationId: 'markNotificationRead',
    permissions: ['notifications:read'],
    request: schemas.markNotificationRead,
    handler: notifications.markRead,
    tags,
    summary: 'Mark one notification read',
    description: "Idempotent. Another principal's notification answers 404.",
    responses: {
      200: ok('The notification, read', schemas.notificationResponse),
      ...errorResponses(400, 401, 403, 404, 503, ...commonErrors),
    },
  }),
  route({
    method: 'post',
    path: '/notifications/read-all',
    operationId: 'markAllNotificationsRead',
    permissions: ['notifications:read'],
    handler: notifications.markAllRead,
    tags,
    summary: "Mark all the caller's notifications read",
    responses: {
      200: ok('How many were marked', schemas.readAllResponse),
      ...errorResponses(401, 403, 503, ...commonErrors),
    },
  }),
];
