import type { Request, Response } from 'express';
import { parsedParams, parsedQuery } from '../middleware/validate';
import * as schemas from '../schemas/outbox.schema';
import * as outboxService from '../services/outbox.service';
import { sendPage } from './list-response';

export async function listOutbox(req: Request, res: Response) {
  sendPage(req, res, await outboxService.listOutbox(parsedQuery(res, schemas.listOutbox)));
}

export async function retryMessage(_req: Request, res: Response) {
  const { message_id: id } = parsedParams(res, schemas.retryOutboxMessage);
  res.json({ message: 'Message queued for delivery', outbox: await outboxService.retryMessage(id) });
}
