import { z } from 'zod';
import { mergeStates, type MovedKind } from '../models/merge.model';
import { customerResponse } from './customer.schema';
import { objectId } from './common.schema';

/** The fields `prefer` may name: each takes the named source's value over the target's own. */
export const preferableFields = ['name', 'company', 'phone', 'status', 'owner_id', 'address'] as const;
export type PreferableField = (typeof preferableFields)[number];

export const MAX_MERGE_SOURCES = 10;

const preferSource = objectId.optional();
const prefer = z
  .object({
    name: preferSource,
    company: preferSource,
    phone: preferSource,
    status: preferSource,
    owner_id: preferSource,
    address: preferSource,
  } satisfies Record<PreferableField, z.ZodType>)
  .strict()
  .meta({
    description:
      "Per field, the source (one of `source_ids`) whose value replaces the target's own for that field only. `address` " +
      'takes the parts that source has (the parts it lacks follow the default rule). A preferred source with no value for ' +
      'the field changes nothing. Without `prefer` the target keeps every value it has.',
    example: { phone: '66d3ccc9e71590f28320f63a' },
  });

const mergeBody = z
  .object({
    source_ids: z
      .array(objectId)
      .min(1)
      .max(MAX_MERGE_SOURCES)
      .meta({ description: 'The duplicates merged into the target (1 to 10, without the target, no repeats)' }),
    prefer: prefer.optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    const seen = new Set<string>();
    body.source_ids.forEach((id, index) => {
      if (seen.has(id)) ctx.addIssue({ code: 'custom', path: ['source_ids', index], message: 'repeated source id' });
      seen.add(id);
    });
    for (const [field, source] of Object.entries(body.prefer ?? {})) {
      if (source !== undefined && !seen.has(source)) {
        ctx.addIssue({ code: 'custom', path: ['prefer', field], message: 'must be one of source_ids' });
      }
    }
  })
  .meta({
    id: 'MergeRequest',
    example: { source_ids: ['66d3ccc9e71590f28320f63a', '66d3ccc9e71590f28320f63b'], prefer: { phone: '66d3ccc9e71590f28320f63b' } },
  });
export type MergeBody = z.output<typeof mergeBody>;

export const mergeCustomers = { params: z.object({ cust_id: objectId }).strict(), body: mergeBody };

const mergeId = z.uuid().meta({ example: '0b6c2f6e-3c1b-4a55-9d2e-8f61c4d0a7b3' });
export const getMerge = { params: z.object({ merge_id: mergeId }).strict() };
export const undoMerge = getMerge;

const ids = z.array(objectId);
const conflict = z
  .object({
    kind: z.enum(['interactions', 'tickets', 'notifications', 'activities', 'fields', 'tags']),
    id: z.string().meta({ description: 'The record id, or the field name for `fields`' }),
    reason: z.string().meta({ example: 'deleted since the merge' }),
  })
  .strict();

export const mergeResponse = z
  .object({
    id: mergeId,
    merge_id: mergeId,
    state: z.enum(mergeStates).meta({ description: '`running` (interrupted before the end), `done`, `undone`' }),
    target_id: objectId,
    source_ids: ids,
    deletion_id: z.string().nullable().meta({ description: 'The trash deletion holding the sources (`GET /trash`)' }),
    filled: z
      .record(
        z.string(),
        z
          .object({ before: z.string().nullable(), after: z.string(), from: objectId.meta({ description: 'The source it came from' }) })
          .strict(),
      )
      .meta({
        description: 'Fields of the target the merge set (`address.city`, …, `owner_id`), with their values before and after',
        example: { phone: { before: null, after: '+91 35636621762', from: '66d3ccc9e71590f28320f63a' } },
      }),
    tags_added: z.array(z.string()),
    moved: z
      .object({ interactions: ids, tickets: ids, notifications: ids, activities: ids } satisfies Record<MovedKind, z.ZodType>)
      .strict()
      .meta({ description: 'The records moved from the sources to the target (activities: timeline entries)' }),
    created_by: z.object({ type: z.enum(['user', 'customer']), id: objectId }).strict(),
    created_at: z.string().meta({ format: 'date-time' }),
    undone_at: z.string().meta({ format: 'date-time' }).nullable(),
    undo: z
      .object({
        by: z.object({ type: z.enum(['user', 'customer']), id: objectId }).strict(),
        conflicts: z.array(conflict).meta({ description: 'What the undo left as it is because it changed since the merge' }),
      })
      .strict()
      .nullable(),
  })
  .strict()
  .meta({ id: 'Merge' });

export const mergeResultResponse = mergeResponse.extend({ customer: customerResponse }).meta({ id: 'MergeResult' });
