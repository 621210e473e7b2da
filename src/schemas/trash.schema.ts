import { z } from 'zod';
import { deletionReasons, trashEntities } from '../models/trash.model';
import { pagingQuery } from '../utils/paging';
import { isoDate, isoDateAfter, objectId } from './common.schema';
import { customerResponse } from './customer.schema';
import { interactionResponse } from './interaction.schema';
import { ticketResponse } from './ticket.schema';

const dateTime = z.string().meta({ format: 'date-time' });
const deletionId = z.uuid().meta({ description: 'The id of one deletion (a UUID)', example: '3b241101-e2bb-4255-8caf-4136c566a962' });
const counts = z.object({ customers: z.number().int(), interactions: z.number().int(), tickets: z.number().int() }).strict();

export const deletionResponse = z
  .object({
    deletion_id: deletionId,
    entity: z.enum(trashEntities).meta({ description: 'What the request deleted (its dependents came with it)' }),
    record_id: objectId,
    reason: z.enum(deletionReasons).meta({ description: '`merge`: the sources of a merge, restored by undoing the merge' }),
    merged_into: objectId.nullable(),
    merge_id: z.string().nullable(),
    deleted_by: z.object({ type: z.enum(['user', 'customer']), id: objectId }).strict(),
    deleted_at: dateTime,
    counts: counts.meta({ description: 'Records this deletion removed, by kind' }),
    summary: z
      .object({
        name: z.string().optional(),
        email: z.string().optional(),
        type: z.string().optional(),
        occurs_at: dateTime.optional(),
        title: z.string().optional(),
      })
      .strict()
      .meta({
        description: "The deleted record in a line: a customer's name and e-mail, an interaction's type and date, a ticket's title",
      }),
  })
  .strict()
  .meta({ id: 'Deletion' });

export const trashItemResponse = z
  .object({
    entity: z.enum(trashEntities),
    record_id: objectId,
    record: z.union([customerResponse, interactionResponse, ticketResponse]).meta({
      description: 'The record as it was (an interaction without its notes and outcome, which come back with it)',
    }),
  })
  .strict()
  .meta({ id: 'TrashItem' });

export const deletionDetailResponse = deletionResponse
  .extend({ items: z.array(trashItemResponse) })
  .strict()
  .meta({ id: 'DeletionWithItems' });

export const restoreResponse = z
  .object({
    message: z.string(),
    deletion_id: deletionId,
    entity: z.enum(trashEntities),
    record_id: objectId,
    restored: z.object({ customers: z.array(objectId), interactions: z.array(objectId), tickets: z.array(objectId) }).strict(),
  })
  .strict()
  .meta({ id: 'RestoreResult' });

const fromBeforeTo = (q: { from?: Date; to?: Date }) => !q.from || !q.to || q.from < q.to;

export const listTrash = {
  query: z
    .object({
      ...pagingQuery(['deleted_at'] as const, '-deleted_at'),
      entity: z.enum(trashEntities).optional().meta({ description: 'What the request deleted' }),
      deleted_by: objectId.optional().meta({ description: 'Staff user (or customer) who deleted' }),
      from: isoDate.optional().meta({ description: 'Deleted at or after this instant' }),
      to: isoDateAfter.optional().meta({ description: 'Deleted before this instant (exclusive)' }),
    })
    .strict()
    .refine(fromBeforeTo, { path: ['to'], message: 'must be after from' }),
};

export const deletionParams = { params: z.object({ deletion_id: deletionId }).strict() };

export type ListTrashQuery = z.output<typeof listTrash.query>;
