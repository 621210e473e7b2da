import { z } from 'zod';
import { activityActions, activityEntities, actorTypes } from '../models/activity.model';
import { pagingQuery } from '../utils/paging';
import { isoDate, isoDateAfter, objectId } from './common.schema';

const dateTime = z.string().meta({ format: 'date-time' });

export const activityResponse = z
  .object({
    id: objectId,
    activity_id: objectId,
    at: dateTime,
    actor: z
      .object({ type: z.enum(actorTypes), id: objectId.nullable().meta({ description: 'null for the system' }) })
      .strict()
      .meta({ description: 'Who did it: a staff user, a customer, or the system' }),
    action: z.enum(activityActions),
    entity: z.enum(activityEntities),
    entity_id: objectId,
    customer_id: objectId.nullable().meta({ description: 'The customer the entry belongs to (null for staff users)' }),
    fields: z.array(z.string()).meta({
      description: 'Names of the fields set or changed (never values; secrets appear as e.g. `password`)',
      example: ['status', 'notes'],
    }),
    job_id: objectId.nullable().meta({
      description:
        'The import job whose import or revert made the change (`GET /import/jobs/{job_id}`); null for a change made by a request',
    }),
  })
  .strict()
  .meta({ id: 'Activity' });

const timeFilters = {
  from: isoDate.optional().meta({ description: 'Entries at or after this instant' }),
  to: isoDateAfter.optional().meta({ description: 'Entries before this instant (exclusive)' }),
};
const fromBeforeTo = (q: { from?: Date; to?: Date }) => !q.from || !q.to || q.from < q.to;

export const customerActivity = {
  params: z.object({ cust_id: objectId }).strict(),
  query: z
    .object({ ...pagingQuery(['at'] as const, '-at'), ...timeFilters })
    .strict()
    .refine(fromBeforeTo, { path: ['to'], message: 'must be after from' }),
};

export const listActivity = {
  query: z
    .object({
      ...pagingQuery(['at'] as const, '-at'),
      ...timeFilters,
      actor_id: objectId.optional().meta({ description: 'Staff user or customer who acted' }),
      entity: z.enum(activityEntities).optional(),
      entity_id: objectId.optional(),
      action: z.enum(activityActions).optional(),
    })
    .strict()
    .refine(fromBeforeTo, { path: ['to'], message: 'must be after from' }),
};

export type CustomerActivityQuery = z.output<typeof customerActivity.query>;
export type ActivityQuery = z.output<typeof listActivity.query>;
