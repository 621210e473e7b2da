import { Router, type RequestHandler } from 'express';
import * as auth from '../controllers/auth.controller';
import { authenticate, authenticateOptional } from '../middleware/authenticate';
import { requireDatabase } from '../middleware/require-database';
import { validate } from '../middleware/validate';
import * as authSchemas from '../schemas/auth.schema';
import { signupCustomer } from '../schemas/customer.schema';
import { signupUser } from '../schemas/user.schema';

/** Sign-up, sign-in and session routes; sign-in and sign-up share a stricter per-client limit. */
export function authRoutes(limits: { auth: RequestHandler }): Router {
  const router = Router();
  router.post('/user/signup', limits.auth, requireDatabase, authenticateOptional, validate(signupUser), auth.signupUser);
  router.post('/user/signin', limits.auth, requireDatabase, validate(authSchemas.signin), auth.signinUser);
  router.post('/customer/signup', limits.auth, requireDatabase, validate(signupCustomer), auth.signupCustomer);
  router.post('/customer/signin', limits.auth, requireDatabase, validate(authSchemas.signin), auth.signinCustomer);
  router.post('/auth/refresh', limits.auth, requireDatabase, validate(authSchemas.refresh), auth.refresh);
  router.post('/auth/logout', requireDatabase, authenticateOptional, validate(authSchemas.logout), auth.logout);
  router.get('/me', authenticate, auth.me);
  return router;
}
