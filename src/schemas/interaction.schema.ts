import { z } from 'zod';
import { interactionStatuses, interactionTypes } from '../models/interaction.model';
import { pagingQuery } from '../utils/paging';
import { isoDate, isoDateAfter, notBlank, objectId, someField } from './common.schema';

const type = z.enum(interactionTypes).meta({ example: 'meeting' });
const status = z.enum(interactionStatuses).meta({ example: 'scheduled' });
const title = z.string().trim().min(1).max(200).meta({ pattern: notBlank, example: 'Quarterly review' });
const notes = z
  .string()
  .max(10_000)
  .meta({ description: 'Internal notes; encrypted at rest, never shown to customers', example: 'Wants a discount' });
const outcome = z
  .string()
  .max(2_000)
  .meta({ description: 'Result; encrypted at rest, never shown to customers', example: 'Renewal agreed' });
const dateTime = z.string().meta({ format: 'date-time' });

export const interactionResponse = z
  .object({
    id: objectId,
    interaction_id: objectId,
    customer_id: objectId,
    user_id: objectId.meta({ description: 'Owning staff user' }),
    type,
    title: z.string().nullable(),
    status,
    scheduled_at: dateTime.nullable(),
    due_at: dateTime.nullable(),
    completed_at: dateTime.nullable().meta({ description: 'Set when the status becomes completed, cleared when it leaves it' }),
    occurs_at: dateTime.meta({ description: 'scheduled_at, else due_at, else created_at: what `from`/`to` and the default sort use' }),
    created_at: dateTime,
    updated_at: dateTime,
    notes: z.string().nullable().optional().meta({ description: 'Staff only: absent for customers' }),
    outcome: z.string().nullable().optional().meta({ description: 'Staff only: absent for customers' }),
  })
  .strict()
  .meta({ id: 'Interaction' });

export const interactionParams = z.object({ interaction_id: objectId }).strict();

/**
 * An update's `completed_at` comes with the status that allows it: a time with `completed`, null with any other.
 * The service checks it against the status the interaction will have, which may be the stored one; the document
 * cannot know that one, so it asks for the status alongside (stricter than the service, never looser).
 */
const completedAtGoesWithStatus = {
  required: ['status'],
  anyOf: [
    { properties: { completed_at: { type: 'string' }, status: { const: 'completed' } } },
    { properties: { completed_at: { type: 'null' }, status: { enum: interactionStatuses.filter((s) => s !== 'completed') } } },
  ],
};

// completed_at belongs to completed interactions only (on update, the service checks against the stored status).
function completedAtNeedsCompleted(body: { status?: string; completed_at?: Date }, ctx: z.RefinementCtx) {
  if (body.completed_at && body.status !== 'completed') {
    ctx.addIssue({ code: 'custom', path: ['completed_at'], message: 'only a completed interaction has completed_at' });
  }
}

export const createInteraction = {
  body: z
    .object({
      customer_id: objectId,
      user_id: objectId.optional().meta({ description: 'Owning staff user; defaults to the caller (another user needs ADMIN or MANAGER)' }),
      type,
      title: title.optional(),
      notes: notes.optional(),
      outcome: outcome.optional(),
      status: status.optional().meta({ description: 'Defaults to scheduled' }),
      scheduled_at: isoDate.optional(),
      due_at: isoDate.optional(),
      completed_at: isoDate.optional().meta({ description: 'With status completed; defaults to now' }),
    })
    .strict()
    .superRefine(completedAtNeedsCompleted)
    .meta({
      id: 'InteractionCreate',
      dependentSchemas: { completed_at: { required: ['status'], properties: { status: { const: 'completed' } } } },
      example: { customer_id: '66d324c3e3d3bbd29769c154', type: 'call', title: 'Follow-up call', scheduled_at: '2024-09-02T10:00:00Z' },
    }),
};

export const scheduleMeeting = {
  params: z.object({ customer_id: objectId }).strict(),
  // Everything optional: the original README schedules a meeting with an empty body.
  body: z
    .object({
      title: title.optional(),
      notes: notes.optional(),
      scheduled_at: isoDate.optional(),
      due_at: isoDate.optional(),
    })
    .strict()
    .meta({ id: 'MeetingCreate', example: {} }),
};

export const updateInteraction = {
  params: interactionParams,
  body: someField(
    z
      .object({
        type: type.optional(),
        title: title.nullable().optional(),
        notes: notes.nullable().optional(),
        outcome: outcome.nullable().optional(),
        status: status.optional(),
        scheduled_at: isoDate.nullable().optional(),
        due_at: isoDate.nullable().optional(),
        completed_at: isoDate.nullable().optional(),
        user_id: objectId.optional().meta({ description: 'Hand the interaction to another staff user (ADMIN, MANAGER)' }),
      })
      .strict(),
  ).meta({
    id: 'InteractionUpdate',
    example: { status: 'completed', outcome: 'Renewal agreed' },
    dependentSchemas: { completed_at: completedAtGoesWithStatus },
  }),
};

export const listInteractions = {
  query: z
    .object({
      ...pagingQuery(['occurs_at', 'created_at', 'updated_at'] as const, '-occurs_at'),
      type: type.optional(),
      status: status.optional(),
      from: isoDate.optional().meta({ description: 'occurs_at on or after this instant (a date means its UTC midnight)' }),
      to: isoDateAfter.optional().meta({ description: 'occurs_at before this instant (exclusive)' }),
      user_id: objectId.optional().meta({ description: 'Owning staff user' }),
      customer_id: objectId.optional(),
    })
    .strict()
    .refine((q) => !q.from || !q.to || q.from < q.to, { path: ['to'], message: 'must be after from' }),
};

export const listUserInteractions = { params: z.object({ user_id: objectId }).strict(), query: listInteractions.query };
export const listCustomerInteractions = { params: z.object({ cust_id: objectId }).strict(), query: listInteractions.query };

export const getInteraction = { params: interactionParams };

export const deleteInteraction = {
  params: interactionParams,
  query: z
    .object({
      cascade: z.enum(['true', 'false']).optional().meta({ description: "Also delete the interaction's tickets" }),
    })
    .strict(),
};

export type UpdateInteractionBody = z.output<typeof updateInteraction.body>;
export type ListInteractionsQuery = z.output<typeof listInteractions.query>;
