import { z } from 'zod';

// One paging mechanism for every list (SPEC §5): `page`/`limit` offsets, or `after=<cursor>` keyset paging
// on (sort field, _id) that never skips or repeats a row while others write. The body stays a bare array;
// `X-Total-Count` and an RFC 8288 `Link` header carry the paging. This file holds the query parameters and
// the page shape; database/paginate.ts runs the query and counts.

export const MAX_LIMIT = 100;
export const MAX_PAGE = 10_000;

/**
 * A positive integer from a query string: plain decimal digits only (no "0x10", "1e3", " 5" or "1.0"
 * that Number() would accept).
 */
export function queryInt(min: number, max: number) {
  return z.preprocess((v) => (typeof v === 'string' && /^\d{1,12}$/.test(v) ? Number(v) : v), z.number().int().min(min).max(max));
}

/** The query parameters every list accepts, given the fields it may sort by. */
export function pagingQuery<const F extends readonly [string, ...string[]]>(sortFields: F, defaultSort: string) {
  const sortValues = sortFields.flatMap((f) => [f, `-${f}`]);
  return {
    page: queryInt(1, MAX_PAGE)
      .optional()
      .meta({
        description: `Page number (1-based, at most ${MAX_PAGE}); ignored with \`after\`. Deeper than that, follow the \`next\` link (an \`after\` cursor).`,
      }),
    limit: queryInt(1, MAX_LIMIT)
      .default(20)
      .meta({ description: `Page size, 1-${MAX_LIMIT}` }),
    sort: z
      .enum(sortValues)
      .default(defaultSort)
      .meta({ description: `Sort field, \`-\` prefix for descending: ${sortFields.join(', ')}` }),
    after: z.string().max(512).optional().meta({ description: 'Opaque keyset cursor from the `next` link' }),
  };
}

export interface PagingInput {
  page?: number;
  limit: number;
  sort: string;
  after?: string;
}

export interface Page<T> {
  items: T[];
  /** Absent in keyset mode, where counting the whole collection on every page is not worth its cost; else shared for a moment (database/count-cache.ts). */
  total?: number;
  page?: number;
  limit: number;
  nextCursor?: string;
}
