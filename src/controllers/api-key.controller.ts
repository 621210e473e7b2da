import type { Request, Response } from 'express';
import { currentPrincipal } from '../middleware/authenticate';
import { parsedBody, parsedParams, parsedQuery } from '../middleware/validate';
import * as schemas from '../schemas/api-key.schema';
import * as integrations from '../services/integrations';
import { sendPage } from './list-response';

export async function createApiKey(_req: Request, res: Response) {
  res.status(201).json(await integrations.createApiKey(parsedBody(res, schemas.createApiKey), currentPrincipal(res)));
}

export async function listApiKeys(req: Request, res: Response) {
  sendPage(req, res, await integrations.listApiKeys(parsedQuery(res, schemas.listApiKeys), currentPrincipal(res)));
}

export async function revokeApiKey(_req: Request, res: Response) {
  const { api_key_id: id } = parsedParams(res, schemas.apiKeyById);
  res.json({ message: 'API key revoked', api_key: await integrations.revokeApiKey(id, currentPrincipal(res)) });
}
