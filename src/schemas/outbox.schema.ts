import { z } from 'zod';
import { outboxStatuses } from '../models/outbox.model';
import { pagingQuery } from '../utils/paging';
import { objectId } from './common.schema';

const dateTime = z.string().meta({ format: 'date-time' });

export const outboxResponse = z
  .object({
    id: objectId,
    message_id: objectId,
    event: z.string().meta({ example: 'ticket.raised' }),
    to: z.string().meta({ example: 'ram@gmail.com' }),
    subject: z.string(),
    status: z.enum(outboxStatuses),
    attempts: z.number().int().meta({ description: 'Delivery attempts started so far' }),
    max_attempts: z.number().int().meta({ description: 'Attempts allowed before the message is marked failed' }),
    next_attempt_at: dateTime,
    last_error: z.string().nullable(),
    sent_at: dateTime.nullable(),
    created_at: dateTime,
    updated_at: dateTime,
  })
  .strict()
  .meta({ id: 'OutboxMessage' });

export const listOutbox = {
  query: z
    .object({
      ...pagingQuery(['created_at'] as const, '-created_at'),
      status: z.enum(outboxStatuses).optional(),
    })
    .strict(),
};

export const retryOutboxMessage = { params: z.object({ message_id: objectId }).strict() };

export type ListOutboxQuery = z.output<typeof listOutbox.query>;
