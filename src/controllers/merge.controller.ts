import type { Request, Response } from 'express';
import { currentPrincipal } from '../middleware/authenticate';
import { parsedBody, parsedParams } from '../middleware/validate';
import * as schemas from '../schemas/merge.schema';
import * as mergeService from '../services/merge';

export async function mergeCustomers(_req: Request, res: Response) {
  const { cust_id: id } = parsedParams(res, schemas.mergeCustomers);
  const result = await mergeService.mergeCustomers(id, parsedBody(res, schemas.mergeCustomers), currentPrincipal(res));
  res.status(201).location(`/merges/${result.merge_id}`).json(result);
}

export async function getMerge(_req: Request, res: Response) {
  res.json(await mergeService.getMerge(parsedParams(res, schemas.getMerge).merge_id));
}

export async function undoMerge(_req: Request, res: Response) {
  res.json(await mergeService.undoMerge(parsedParams(res, schemas.undoMerge).merge_id, currentPrincipal(res)));
}
