import { z } from 'zod';
import { duplicateRules } from '../models/duplicate-mark.model';
import { MAX_LIMIT, queryInt } from '../utils/paging';
import { customerResponse } from './customer.schema';

export const listDuplicates = {
  query: z
    .object({
      rule: z.enum(duplicateRules).optional().meta({ description: 'Only the groups found by this rule' }),
      limit: queryInt(1, MAX_LIMIT)
        .default(20)
        .meta({ description: `Groups per page, 1-${MAX_LIMIT}` }),
      cursor: z
        .string()
        .max(1200)
        .regex(/^[A-Za-z0-9_-]+$/, 'expected the next_cursor of a previous page')
        .optional()
        .meta({ description: 'Opaque: the `next_cursor` of the previous page' }),
    })
    .strict(),
};
export type ListDuplicatesQuery = z.output<typeof listDuplicates.query>;

export const duplicateGroup = z
  .object({
    rule: z
      .enum(duplicateRules)
      .meta({ description: 'phone: same E.164 number; email: same mailbox; name: same name in the same company' }),
    key: z.string().meta({
      description: 'The normalised key the members share: E.164 phone (or its digits), e-mail, or `<name>\\u0000<company>` in lower case',
      example: '+49301234567',
    }),
    customers: z.array(customerResponse).min(2).meta({ description: `The members (at most 50), in id order` }),
  })
  .strict()
  .meta({ id: 'DuplicateGroup' });

export const duplicateGroupsPage = z
  .object({
    groups: z.array(duplicateGroup),
    next_cursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last page' }),
  })
  .strict()
  .meta({ id: 'DuplicateGroups' });
