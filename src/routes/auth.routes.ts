import { Router, type RequestHandler } from 'express';
import * as auth from '../controllers/auth.controller';
import { authenticate, authenticateOptional } from '../middleware/authenticate';
import { noStore } from '../middleware/no-store';
import { requireDatabase } from '../middleware/require-database';
import { validate } from '../middleware/validate';
import * as authSchemas from '../schemas/auth.schema';
import { signupCustomer } from '../schemas/customer.schema';
import { signupUser } from '../schemas/user.schema';

/**
 * Sign-up, sign-in and session routes; sign-in, sign-up and refresh share a stricter per-client limit, and
 * their answers (tokens) are never cached.
 */
export function authRoutes(limits: { auth: RequestHandler }): Router {
  const router = Router();
  router.post('/user/signup', limits.auth, noStore, requireDatabase, authenticateOptional, validate(signupUser), auth.signupUser);
  router.post('/user/signin', limits.auth, noStore, requireDatabase, validate(authSchemas.signin), auth.signinUser);
  router.post('/customer/signup', limits.auth, noStore, requireDatabase, validate(signupCustomer), auth.signupCustomer);
  router.post('/customer/signin', limits.auth, noStore, requireDatabase, validate(authSchemas.signin), auth.signinCustomer);
  router.post('/auth/refresh', limits.auth, noStore, requireDatabase, validate(authSchemas.refresh), auth.refresh);
  router.post('/auth/logout', requireDatabase, authenticateOptional, validate(authSchemas.logout), auth.logout);
  router.get('/me', authenticate, auth.me);
  return router;
}
