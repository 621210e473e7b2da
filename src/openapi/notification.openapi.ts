import * as s from '../schemas/notification.schema';
import { authenticated, commonErrors, errorResponses, listOf, ok, registry } from './registry';

const tags = ['notifications'];

registry.registerPath({
  method: 'get',
  path: '/notifications',
  tags,
  summary: "The caller's in-app notifications",
  description:
    'Staff users and customers each see only their own notifications, newest first. `unread=true` keeps ' +
    'those not yet read. Events: meetings scheduled, rescheduled, completed or cancelled; tickets raised or ' +
    'changing status; welcome; password changed.',
  security: authenticated,
  request: { query: s.listNotifications.query },
  responses: {
    200: listOf('Notifications', s.notificationResponse),
    ...errorResponses(400, 401, 403, 503, ...commonErrors),
  },
});

registry.registerPath({
  method: 'patch',
  path: '/notifications/{notification_id}/read',
  tags,
  summary: 'Mark one notification read',
  description: "Idempotent. Another principal's notification answers 404.",
  security: authenticated,
  request: { params: s.markNotificationRead.params },
  responses: {
    200: ok('The notification, read', s.notificationResponse),
    ...errorResponses(400, 401, 403, 404, 503, ...commonErrors),
  },
});

registry.registerPath({
  method: 'post',
  path: '/notifications/read-all',
  tags,
  summary: "Mark all the caller's notifications read",
  security: authenticated,
  responses: {
    200: ok('How many were marked', s.readAllResponse),
    ...errorResponses(401, 403, 503, ...commonErrors),
  },
});
