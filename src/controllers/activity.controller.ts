import type { Request, Response } from 'express';
import { parsedParams, parsedQuery } from '../middleware/validate';
import * as schemas from '../schemas/activity.schema';
import * as activityService from '../services/activity.service';
import { sendPage } from './list-response';

export async function customerActivity(req: Request, res: Response) {
  const { cust_id: id } = parsedParams(res, schemas.customerActivity);
  sendPage(req, res, await activityService.customerActivity(id, parsedQuery(res, schemas.customerActivity)));
}

export async function listActivity(req: Request, res: Response) {
  sendPage(req, res, await activityService.listActivity(parsedQuery(res, schemas.listActivity)));
}
