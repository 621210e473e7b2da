import type { Request, Response } from 'express';
import { parsedParams, parsedQuery } from '../middleware/validate';
import * as schemas from '../schemas/trash.schema';
import * as trashAdmin from '../services/trash-admin.service';
import { currentPrincipal } from '../middleware/authenticate';
import { sendPage } from './list-response';

export async function listTrash(req: Request, res: Response) {
  sendPage(req, res, await trashAdmin.listTrash(parsedQuery(res, schemas.listTrash)));
}

export async function getDeletion(_req: Request, res: Response) {
  const { deletion_id: id } = parsedParams(res, schemas.deletionParams);
  res.json(await trashAdmin.getTrashDeletion(id));
}

export async function restoreDeletion(_req: Request, res: Response) {
  const { deletion_id: id } = parsedParams(res, schemas.deletionParams);
  const result = await trashAdmin.restoreFromTrash(id, currentPrincipal(res));
  res.json({ message: 'Restored', ...result });
}

export async function purgeDeletion(_req: Request, res: Response) {
  const { deletion_id: id } = parsedParams(res, schemas.deletionParams);
  await trashAdmin.purgeTrashDeletion(id);
  res.json({ message: 'Deletion purged' });
}
