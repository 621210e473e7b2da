import * as s from '../schemas/auth.schema';
import { messageResponse } from '../schemas/common.schema';
import { signupCustomer } from '../schemas/customer.schema';
import { signupUser } from '../schemas/user.schema';
import type { ResponseConfig } from '@asteasolutions/zod-to-openapi';
import type { z } from 'zod';
import { authenticated, commonErrors, errorResponses, jsonBody, ok, registry } from './registry';

const tags = ['auth'];

/** Answers that carry tokens or credentials: never stored by a cache. */
function noStore(description: string, schema: z.ZodType): ResponseConfig {
  return {
    ...ok(description, schema),
    headers: {
      'Cache-Control': { description: 'Always `no-store`', schema: { type: 'string', enum: ['no-store'] } },
      Pragma: { description: 'Always `no-cache` (HTTP/1.0 caches)', schema: { type: 'string', enum: ['no-cache'] } },
    },
  };
}

const lockout =
  'Each account has LOGIN_MAX_FAILURES attempt slots: a slot is reserved atomically before the password is ' +
  'compared, so at most that many wrong passwords are ever checked, however many requests arrive at once; ' +
  'then every attempt, the right password included, answers 429 with Retry-After until LOGIN_LOCK_SECONDS ' +
  'after the last failure. A right password clears the count.';

registry.registerPath({
  method: 'post',
  path: '/user/signup',
  tags,
  summary: 'Create a staff user',
  description:
    'The first staff account ever created becomes ADMIN and needs no token. Afterwards only an ADMIN may ' +
    'create staff users or choose a `role` (anyone else sending one gets 403).',
  security: [...authenticated, {}],
  request: jsonBody(signupUser.body),
  responses: {
    201: noStore('Created', s.userSignupResponse),
    ...errorResponses(400, 401, 403, 409, 413, 415, 503, ...commonErrors),
  },
});

registry.registerPath({
  method: 'post',
  path: '/user/signin',
  tags,
  summary: 'Staff sign-in',
  description: `Same 401 for an unknown e-mail and a wrong password. ${lockout}`,
  request: jsonBody(s.signin.body),
  responses: {
    200: noStore('Signed in', s.userSigninResponse),
    ...errorResponses(400, 401, 413, 415, 503, ...commonErrors),
  },
});

registry.registerPath({
  method: 'post',
  path: '/customer/signup',
  tags,
  summary: 'Customer self-registration',
  description:
    'Does not reveal whether an address is on record: for a contact entered by staff that has no password, ' +
    'it answers the same 201 as a new sign-up (with an id that belongs to nothing), creates and changes ' +
    'nothing, and e-mails the address a notice instead. Only an address that can already sign in answers 409.',
  request: jsonBody(signupCustomer.body),
  responses: {
    201: noStore('Created (or, for an existing contact without a password, the same answer)', s.customerSignupResponse),
    ...errorResponses(400, 403, 409, 413, 415, 503, ...commonErrors),
  },
});

registry.registerPath({
  method: 'post',
  path: '/customer/signin',
  tags,
  summary: 'Customer sign-in',
  description: `Same 401 for an unknown e-mail and a wrong password. ${lockout}`,
  request: jsonBody(s.signin.body),
  responses: {
    200: noStore('Signed in', s.customerSigninResponse),
    ...errorResponses(400, 401, 413, 415, 503, ...commonErrors),
  },
});

registry.registerPath({
  method: 'post',
  path: '/auth/refresh',
  tags,
  summary: 'Exchange a refresh token for a new token pair',
  description:
    'The refresh token is rotated: the old one stops working. Of concurrent uses of one token exactly one ' +
    'succeeds; any other use, sequential or concurrent, answers 401 and revokes that whole sign-in, the ' +
    'successor just issued included.',
  request: jsonBody(s.refresh.body),
  responses: {
    200: noStore('New tokens', s.tokenResponse),
    ...errorResponses(400, 401, 413, 415, 503, ...commonErrors),
  },
});

registry.registerPath({
  method: 'post',
  path: '/auth/logout',
  tags,
  summary: 'End a sign-in, or every session',
  description: '`refresh_token` ends that sign-in; `all: true` (with an access token) invalidates every token of the caller.',
  security: [...authenticated, {}],
  request: jsonBody(s.logout.body),
  responses: {
    200: ok('Logged out', messageResponse),
    ...errorResponses(400, 401, 413, 415, 503, ...commonErrors),
  },
});

registry.registerPath({
  method: 'get',
  path: '/me',
  tags,
  summary: 'The caller: staff user or customer, with its permissions',
  security: authenticated,
  responses: {
    200: ok('The caller', s.meResponse),
    ...errorResponses(401, 503, ...commonErrors),
  },
});
