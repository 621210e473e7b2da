import { z } from 'zod';
import { pagingQuery } from '../utils/paging';
import { booleanQuery, objectId } from './common.schema';

const dateTime = z.string().meta({ format: 'date-time' });
const events = z.string().meta({
  description:
    'meeting.scheduled, meeting.rescheduled, meeting.completed, meeting.cancelled, ticket.raised, ' +
    'ticket.status_changed, customer.welcome, account.password_changed or webhook.disabled (ADMINs)',
  example: 'ticket.raised',
});

export const notificationResponse = z
  .object({
    id: objectId,
    notification_id: objectId,
    event: events,
    title: z.string().meta({ example: 'New ticket: Invoice shows the wrong amount' }),
    body: z.string(),
    entity: z.enum(['user', 'customer', 'interaction', 'ticket', 'webhook']).meta({ description: 'What it is about' }),
    entity_id: objectId,
    read: z.boolean(),
    read_at: dateTime.nullable(),
    created_at: dateTime,
  })
  .strict()
  .meta({ id: 'Notification' });

export const listNotifications = {
  query: z
    .object({
      ...pagingQuery(['created_at'] as const, '-created_at'),
      unread: booleanQuery.optional().meta({ description: 'true: only notifications not yet read' }),
    })
    .strict(),
};

export const markNotificationRead = { params: z.object({ notification_id: objectId }).strict() };

export const readAllResponse = z
  .object({ message: z.string(), updated: z.number().int().meta({ description: 'Notifications marked read now' }) })
  .strict()
  .meta({ id: 'NotificationsReadAll' });

export type ListNotificationsQuery = z.output<typeof listNotifications.query>;
