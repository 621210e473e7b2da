import type { Request, Response } from 'express';
import { currentPrincipal } from '../middleware/authenticate';
import { parsedBody, parsedParams, parsedQuery } from '../middleware/validate';
import * as schemas from '../schemas/webhook.schema';
import * as webhooks from '../services/integrations';
import { sendPage } from './list-response';

export async function createWebhook(_req: Request, res: Response) {
  res.status(201).json(await webhooks.createEndpoint(parsedBody(res, schemas.createWebhook), currentPrincipal(res)));
}

export async function listWebhooks(req: Request, res: Response) {
  sendPage(req, res, await webhooks.listEndpoints(parsedQuery(res, schemas.listWebhooks)));
}

export async function getWebhook(_req: Request, res: Response) {
  res.json(await webhooks.getEndpoint(parsedParams(res, schemas.webhookById).webhook_id));
}

export async function updateWebhook(_req: Request, res: Response) {
  const { webhook_id: id } = parsedParams(res, schemas.updateWebhook);
  res.json(await webhooks.updateEndpoint(id, parsedBody(res, schemas.updateWebhook)));
}

export async function deleteWebhook(_req: Request, res: Response) {
  await webhooks.deleteEndpoint(parsedParams(res, schemas.webhookById).webhook_id);
  res.json({ message: 'Webhook deleted successfully' });
}

export async function rotateSecret(_req: Request, res: Response) {
  const { webhook_id: id } = parsedParams(res, schemas.rotateWebhookSecret);
  res.json(await webhooks.rotateSecret(id, parsedBody(res, schemas.rotateWebhookSecret).grace_hours));
}

export async function testWebhook(_req: Request, res: Response) {
  res.status(202).json(await webhooks.sendTestEvent(parsedParams(res, schemas.webhookById).webhook_id));
}

export async function listDeliveries(req: Request, res: Response) {
  const { webhook_id: id } = parsedParams(res, schemas.listDeliveries);
  sendPage(req, res, await webhooks.listDeliveries(id, parsedQuery(res, schemas.listDeliveries)));
}

export async function redeliver(_req: Request, res: Response) {
  const { webhook_id: id, delivery_id: deliveryId } = parsedParams(res, schemas.redeliver);
  res.status(202).json(await webhooks.redeliver(id, deliveryId));
}
