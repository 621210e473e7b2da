import type { Request, Response } from 'express';
import * as schemas from '../schemas/user.schema';
import { parsedBody, parsedParams, parsedQuery } from '../middleware/validate';
import * as userService from '../services/user.service';
import { sendPage } from './list-response';
import { currentPrincipal } from '../middleware/authenticate';

export async function listUsers(req: Request, res: Response) {
  const page = await userService.listUsers(parsedQuery(res, schemas.listUsers), currentPrincipal(res));
  sendPage(req, res, page);
}

export async function getUser(_req: Request, res: Response) {
  res.json(await userService.getUser(parsedParams(res, schemas.getUser).user_id, currentPrincipal(res)));
}

export async function updateUser(_req: Request, res: Response) {
  const { user_id: id } = parsedParams(res, schemas.updateUser);
  const user = await userService.updateUser(id, parsedBody(res, schemas.updateUser), currentPrincipal(res));
  res.json({ message: 'user updated successfully', user });
}

export async function deleteUser(_req: Request, res: Response) {
  const { user_id: id } = parsedParams(res, schemas.deleteUser);
  await userService.deleteUser(id, parsedQuery(res, schemas.deleteUser).reassign_to, currentPrincipal(res));
  res.json({ message: 'User deleted successfully' });
}
