import { Router } from 'express';
import * as users from '../controllers/user.controller';
import { authenticate, authorize } from '../middleware/authenticate';
import { validate } from '../middleware/validate';
import * as schemas from '../schemas/user.schema';

export function userRoutes(): Router {
  const router = Router();
  router.get('/users', authenticate, authorize('users:read'), validate(schemas.listUsers), users.listUsers);
  router.get('/users/:user_id', authenticate, authorize('users:read'), validate(schemas.getUser), users.getUser);
  // PUT is a partial update too: the original README's example PUTs just {"name": …}.
  router.patch('/users/:user_id', authenticate, authorize('users:manage', 'users:update-self'), validate(schemas.updateUser), users.updateUser);
  router.put('/users/:user_id', authenticate, authorize('users:manage', 'users:update-self'), validate(schemas.updateUser), users.updateUser);
  router.delete('/users/:user_id', authenticate, authorize('users:read'), validate(schemas.deleteUser), users.deleteUser);
  return router;
}
