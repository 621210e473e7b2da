import mongoose, { type QueryFilter, type Types } from 'mongoose';
import { z } from 'zod';
import { AppError } from '../utils/app-error';
import type { Page, PagingInput } from '../utils/paging';
import { cachedCount } from './count-cache';

// Runs a list query the way utils/paging.ts describes it: offset pages with a total, or keyset pages after
// an opaque cursor that names the sort field, its value and the row's _id.

const cursorSchema = z
  .object({
    s: z.string(),
    t: z.enum(['date', 'string', 'number']),
    v: z.union([z.string(), z.number()]),
    id: z.string().regex(/^[0-9a-f]{24}$/),
  })
  .strict();
type Cursor = z.output<typeof cursorSchema>;

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(raw: string, sortField: string): Cursor {
  try {
    const cursor = cursorSchema.parse(JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')));
    if (cursor.s !== sortField) throw new Error('sort mismatch');
    return cursor;
  } catch {
    throw AppError.validation([{ location: 'query', field: 'after', message: 'invalid cursor for this sort order' }]);
  }
}

function cursorValue(cursor: Cursor): Date | string | number {
  if (cursor.t === 'date') return new Date(cursor.v);
  return cursor.v;
}

function cursorFor(row: Record<string, unknown> & { _id: Types.ObjectId }, sortField: string): string {
  const value = row[sortField];
  const base = { s: sortField, id: row._id.toHexString() };
  if (value instanceof Date) return encodeCursor({ ...base, t: 'date', v: value.toISOString() });
  if (typeof value === 'number') return encodeCursor({ ...base, t: 'number', v: value });
  return encodeCursor({ ...base, t: 'string', v: typeof value === 'string' ? value : '' });
}

/**
 * Runs a paged, sorted list on `model` with `filter`. Sort fields must be required (never null) so the
 * keyset comparison is total; every (field, _id) pair has an index.
 */
export async function paginate<TRaw, TQueryHelpers, TMethods, TVirtuals, THydrated, TSchema, TLean>(
  // Every type parameter of Model is inferred, so any schema's model fits.
  model: mongoose.Model<TRaw, TQueryHelpers, TMethods, TVirtuals, THydrated, TSchema, TLean>,
  filter: QueryFilter<TRaw>,
  input: PagingInput,
  options: { projection?: string | Record<string, 0 | 1> } = {},
): Promise<Page<TRaw & { _id: Types.ObjectId }>> {
  type TDoc = TRaw & { _id: Types.ObjectId };
  const descending = input.sort.startsWith('-');
  const field = descending ? input.sort.slice(1) : input.sort;
  const direction = descending ? -1 : 1;
  const sort: Record<string, 1 | -1> = { [field]: direction, _id: direction };

  let query: QueryFilter<TRaw> = filter;
  let skip = 0;
  if (input.after) {
    const cursor = decodeCursor(input.after, field);
    const op = descending ? '$lt' : '$gt';
    const value = cursorValue(cursor);
    const id = new mongoose.Types.ObjectId(cursor.id);
    const keyset = {
      $or: [{ [field]: mongoose.trusted({ [op]: value }) }, { [field]: value, _id: mongoose.trusted({ [op]: id }) }],
    };
    query = { $and: [filter, keyset] };
  } else {
    skip = ((input.page ?? 1) - 1) * input.limit;
  }

  const find = model
    .find(query, options.projection)
    .sort(sort)
    .skip(skip)
    .limit(input.limit + 1)
    .lean<TDoc[]>();
  const rows = (await find.exec()) ?? [];
  const hasMore = rows.length > input.limit;
  const items = hasMore ? rows.slice(0, input.limit) : rows;
  // An offset page that ends the list (it has rows, or is the first) gives the exact total by itself;
  // only a page with more after it needs a count.
  let total: number | undefined;
  if (!input.after) total = !hasMore && (items.length > 0 || skip === 0) ? skip + items.length : await cachedCount(model, filter);
  const last = items.at(-1);
  return {
    items,
    total,
    page: input.after ? undefined : (input.page ?? 1),
    limit: input.limit,
    nextCursor: hasMore && last ? cursorFor(last, field) : undefined,
  };
}
