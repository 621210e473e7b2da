import type { Request, Response } from 'express';
import { parsedBody, parsedParams, parsedQuery } from '../middleware/validate';
import * as schemas from '../schemas/interaction.schema';
import * as interactionList from '../services/interaction-list.service';
import * as interactionService from '../services/interaction.service';
import { sendPage } from './list-response';
import { currentPrincipal } from '../middleware/authenticate';

export async function listInteractions(req: Request, res: Response) {
  sendPage(req, res, await interactionList.listInteractions(parsedQuery(res, schemas.listInteractions), currentPrincipal(res)));
}

export async function listMyInteractions(req: Request, res: Response) {
  sendPage(req, res, await interactionList.listMyInteractions(parsedQuery(res, schemas.listInteractions), currentPrincipal(res)));
}

export async function listUserInteractions(req: Request, res: Response) {
  const { user_id: id } = parsedParams(res, schemas.listUserInteractions);
  const page = await interactionList.listUserInteractions(id, parsedQuery(res, schemas.listUserInteractions), currentPrincipal(res));
  sendPage(req, res, page);
}

export async function listCustomerInteractions(req: Request, res: Response) {
  const { cust_id: id } = parsedParams(res, schemas.listCustomerInteractions);
  const page = await interactionList.listCustomerInteractions(
    id,
    parsedQuery(res, schemas.listCustomerInteractions),
    currentPrincipal(res),
  );
  sendPage(req, res, page);
}

export async function getInteraction(_req: Request, res: Response) {
  res.json(await interactionService.getInteraction(parsedParams(res, schemas.getInteraction).interaction_id, currentPrincipal(res)));
}

export async function createInteraction(_req: Request, res: Response) {
  const { customer_id: customerId, user_id: userId, ...fields } = parsedBody(res, schemas.createInteraction);
  const { interaction } = await interactionService.createInteraction({ ...fields, customerId, userId }, currentPrincipal(res), 'body');
  res.status(201).location(`/interactions/${interaction.id}`).json(interaction);
}

/** The original's "schedule a meeting" route, answering its `{"InsertedID": id}` shape. */
export async function scheduleMeeting(_req: Request, res: Response) {
  const { customer_id: customerId } = parsedParams(res, schemas.scheduleMeeting);
  const body = parsedBody(res, schemas.scheduleMeeting);
  const { interaction } = await interactionService.createInteraction(
    { ...body, customerId, type: 'meeting' },
    currentPrincipal(res),
    'path',
  );
  res.status(201).location(`/interactions/${interaction.id}`).json({ InsertedID: interaction.id });
}

export async function updateInteraction(_req: Request, res: Response) {
  const { interaction_id: id } = parsedParams(res, schemas.updateInteraction);
  const { interaction } = await interactionService.updateInteraction(id, parsedBody(res, schemas.updateInteraction), currentPrincipal(res));
  res.json({ message: 'Interaction updated successfully', interaction });
}

export async function deleteInteraction(_req: Request, res: Response) {
  const { interaction_id: id } = parsedParams(res, schemas.deleteInteraction);
  const cascade = parsedQuery(res, schemas.deleteInteraction).cascade === 'true';
  await interactionService.deleteInteraction(id, cascade, currentPrincipal(res));
  res.json({ message: 'Interaction deleted successfully' });
}
