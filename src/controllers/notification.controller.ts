import type { Request, Response } from 'express';
import { parsedParams, parsedQuery } from '../middleware/validate';
import * as schemas from '../schemas/notification.schema';
import * as notifications from '../services/notifications';
import { sendPage } from './list-response';
import { currentPrincipal } from '../middleware/authenticate';

export async function listNotifications(req: Request, res: Response) {
  const page = await notifications.listNotifications(parsedQuery(res, schemas.listNotifications), currentPrincipal(res));
  sendPage(req, res, page);
}

export async function markRead(_req: Request, res: Response) {
  const { notification_id: id } = parsedParams(res, schemas.markNotificationRead);
  res.json(await notifications.markRead(id, currentPrincipal(res)));
}

export async function markAllRead(_req: Request, res: Response) {
  const updated = await notifications.markAllRead(currentPrincipal(res));
  res.json({ message: 'Notifications marked as read', updated });
}
