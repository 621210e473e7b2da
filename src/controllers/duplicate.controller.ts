import type { Request, Response } from 'express';
import { currentPrincipal } from '../middleware/authenticate';
import { parsedQuery } from '../middleware/validate';
import * as schemas from '../schemas/duplicate.schema';
import { listDuplicateGroups } from '../services/duplicate-groups.service';

export async function listDuplicates(req: Request, res: Response) {
  const page = await listDuplicateGroups(parsedQuery(res, schemas.listDuplicates), currentPrincipal(res));
  if (page.next_cursor) {
    const next = new URL(req.originalUrl, 'http://placeholder');
    next.searchParams.set('cursor', page.next_cursor);
    res.setHeader('Link', `<${next.pathname}${next.search}>; rel="next"`);
  }
  res.json(page);
}
