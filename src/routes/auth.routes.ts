import * as auth from '../controllers/auth.controller';
import { commonErrors, errorResponses, ok } from '../openapi/registry';
import * as schemas from '../schemas/auth.schema';
import { messageResponse } from '../schemas/common.schema';
import { signupCustomer } from '../schemas/customer.schema';
import { signupUser } from '../schemas/user.schema';
import { route, type RouteSpec } from './route';

const tags = ['auth'];
// Sign-in, sign-up and refresh share a stricter per-client limit, and their answers (tokens) are never cached.
const issuesTokens = { rateLimit: 'auth', noStore: true, requireDatabase: true } satisfies Partial<RouteSpec>;
const lockout =
  'Each account has LOGIN_MAX_FAILURES attempt slots: a slot is reserved atomically before the password is ' +
  'compared, so at most that many wrong passwords are ever checked, however many requests arrive at once; ' +
  'then every attempt, the right password included, answers 429 with Retry-After until LOGIN_LOCK_SECONDS ' +
  'after the last failure. A right password clears the count.';

export const authRoutes = [
  route({
    method: 'post',
    path: '/user/signup',
    operationId: 'signupUser',
    auth: 'optional',
    ...issuesTokens,
    request: signupUser,
    handler: auth.signupUser,
    tags,
    summary: 'Create a staff user',
    description:
      'The first staff account ever created becomes ADMIN and needs no token. Afterwards only an ADMIN may ' +
      'create staff users or choose a `role` (anyone else sending one gets 403).',
    responses: {
      201: ok('Created', schemas.userSignupResponse),
      ...errorResponses(400, 401, 403, 409, 413, 415, 503, ...commonErrors),
    },
  }),
  route({
    method: 'post',
    path: '/user/signin',
    operationId: 'signinUser',
    auth: 'public',
    ...issuesTokens,
    request: schemas.signin,
    handler: auth.signinUser,
    tags,
    summary: 'Staff sign-in',
    description: `Same 401 for an unknown e-mail and a wrong password. ${lockout}`,
    responses: {
      200: ok('Signed in', schemas.userSigninResponse),
      ...errorResponses(400, 401, 413, 415, 503, ...commonErrors),
    },
  }),
  route({
    method: 'post',
    path: '/customer/signup',
    operationId: 'signupCustomer',
    auth: 'public',
    ...issuesTokens,
    request: signupCustomer,
    handler: auth.signupCustomer,
    tags,
    summary: 'Customer self-registration',
    description:
      'Does not reveal whether an address is on record: for a contact entered by staff that has no password, ' +
      'it answers the same 201 as a new sign-up (with an id that belongs to nothing), creates and changes ' +
      'nothing, and e-mails the address a notice instead. Only an address that can already sign in answers 409.',
    responses: {
      201: ok('Created (or, for an existing contact without a password, the same answer)', schemas.customerSignupResponse),
      ...errorResponses(400, 403, 409, 413, 415, 503, ...commonErrors),
    },
  }),
  route({
    method: 'post',
    path: '/customer/signin',
    operationId: 'signinCustomer',
    auth: 'public',
    ...issuesTokens,
    request: schemas.signin,
    handler: auth.signinCustomer,
    tags,
    summary: 'Customer sign-in',
    description: `Same 401 for an unknown e-mail and a wrong password. ${lockout}`,
    responses: {
      200: ok('Signed in', schemas.customerSigninResponse),
      ...errorResponses(400, 401, 413, 415, 503, ...commonErrors),
    },
  }),
  route({
    method: 'post',
    path: '/auth/refresh',
    operationId: 'refreshTokens',
    auth: 'public',
    ...issuesTokens,
    request: schemas.refresh,
    handler: auth.refresh,
    tags,
    summary: 'Exchange a refresh token for a new token pair',
    description:
      'The refresh token is rotated: the old one stops working. Of concurrent uses of one token exactly one ' +
      'succeeds; any other use, sequential or concurrent, answers 401 and revokes that whole sign-in, the ' +
      'successor just issued included.',
    responses: {
      200: ok('New tokens', schemas.tokenResponse),
      ...errorResponses(400, 401, 413, 415, 503, ...commonErrors),
    },
  }),
  route({
    method: 'post',
    path: '/auth/logout',
    operationId: 'logout',
    auth: 'optional',
    requireDatabase: true,
    request: schemas.logout,
    handler: auth.logout,
    tags,
    summary: 'End a sign-in, or every session',
    description: '`refresh_token` ends that sign-in; `all: true` (with an access token) invalidates every token of the caller.',
    responses: {
      200: ok('Logged out', messageResponse),
      ...errorResponses(400, 401, 413, 415, 503, ...commonErrors),
    },
  }),
  route({
    method: 'get',
    path: '/me',
    operationId: 'getMe',
    handler: auth.me,
    tags,
    summary: 'The caller: staff user or customer, with its permissions',
    responses: {
      200: ok('The caller', schemas.meResponse),
      ...errorResponses(401, 503, ...commonErrors),
    },
  }),
];
