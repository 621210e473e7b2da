import type { Request, Response } from 'express';
import { MAX_PAGE, type Page } from '../utils/paging';

function linkTo(req: Request, changes: Record<string, string | undefined>): string {
  const url = new URL(req.originalUrl, 'http://placeholder');
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) url.searchParams.delete(key);
    else url.searchParams.set(key, value);
  }
  return `${url.pathname}${url.search}`;
}

/** Sends a page of views as a bare JSON array (as the original did) with paging in X-Total-Count and Link headers. */
export function sendPage<T>(req: Request, res: Response, page: Page<T>): void {
  const links: string[] = [];
  const add = (rel: string, changes: Record<string, string | undefined>) => links.push(`<${linkTo(req, changes)}>; rel="${rel}"`);
  if (page.nextCursor) add('next', { after: page.nextCursor, page: undefined });
  if (page.total !== undefined && page.page !== undefined) {
    const lastPage = Math.max(1, Math.ceil(page.total / page.limit));
    add('first', { page: '1', after: undefined });
    if (page.page > 1) add('prev', { page: String(Math.min(page.page - 1, lastPage)), after: undefined });
    // Never a link that fails: a last page past the page cap is reached with `next` (cursor) links instead.
    if (lastPage <= MAX_PAGE) add('last', { page: String(lastPage), after: undefined });
    res.setHeader('X-Total-Count', String(page.total));
  }
  if (links.length > 0) res.setHeader('Link', links.join(', '));
  res.json(page.items);
}
