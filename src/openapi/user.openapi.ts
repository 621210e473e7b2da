import { z } from 'zod';
import { messageResponse } from '../schemas/common.schema';
import * as s from '../schemas/user.schema';
import { authenticated, commonErrors, errorResponses, jsonBody, listOf, ok, registry } from './registry';

const tags = ['users'];
const updated = z.object({ message: z.literal('user updated successfully'), user: s.userResponse }).strict().meta({ id: 'UserUpdated' });

registry.registerPath({
  method: 'get',
  path: '/users',
  tags,
  summary: 'List staff users',
  description: 'ADMIN and MANAGER see everyone; a USER sees only itself.',
  security: authenticated,
  request: { query: s.listUsers.query },
  responses: {
    200: listOf('Staff users', s.userResponse),
    ...errorResponses(400, 401, 403, 503, ...commonErrors),
  },
});

// The original README's `curl --data ''` examples POST with an empty body; the service reads those as GETs.
registry.registerPath({
  method: 'post',
  path: '/users',
  tags,
  summary: 'Same as GET /users, for an empty-bodied POST (curl --data \'\')',
  description: "Compatibility with the original README's `curl --data ''` example. A POST with a body is not accepted here.",
  deprecated: true,
  security: authenticated,
  request: { query: s.listUsers.query },
  responses: {
    200: listOf('Staff users', s.userResponse),
    ...errorResponses(400, 401, 403, 415, 503, ...commonErrors),
  },
});

registry.registerPath({
  method: 'post',
  path: '/users/{user_id}',
  tags,
  summary: 'Same as GET /users/{user_id}, for an empty-bodied POST (curl --data \'\')',
  description: "Compatibility with the original README's `curl --data ''` example.",
  deprecated: true,
  security: authenticated,
  request: { params: s.getUser.params },
  responses: {
    200: ok('The user', s.userResponse),
    ...errorResponses(400, 401, 403, 404, 415, 503, ...commonErrors),
  },
});

registry.registerPath({
  method: 'get',
  path: '/users/{user_id}',
  tags,
  summary: 'Read a staff user',
  security: authenticated,
  request: { params: s.getUser.params },
  responses: {
    200: ok('The user', s.userResponse),
    ...errorResponses(400, 401, 403, 404, 503, ...commonErrors),
  },
});

for (const method of ['patch', 'put'] as const) {
  registry.registerPath({
    method,
    path: '/users/{user_id}',
    tags,
    summary: method === 'put' ? 'Update a staff user (partial, as PATCH)' : 'Update a staff user',
    description:
      'An ADMIN may change anything of anyone (not demote the last ADMIN). Other staff may change their own ' +
      'name, e-mail and password (with `current_password`), never their role. A password or role change ' +
      'invalidates the user\'s older tokens. A wrong `current_password` counts as a failed sign-in of the ' +
      'account (same lock as sign-in: 429 with Retry-After once locked).',
    security: authenticated,
    request: { params: s.updateUser.params, ...jsonBody(s.updateUser.body) },
    responses: {
      200: ok('Updated', updated),
      ...errorResponses(400, 401, 403, 404, 409, 413, 415, 503, ...commonErrors),
    },
  });
}

registry.registerPath({
  method: 'delete',
  path: '/users/{user_id}',
  tags,
  summary: 'Delete a staff user (ADMIN)',
  description: 'A user who still owns customers or interactions needs `reassign_to` (409 otherwise). The last ADMIN cannot be deleted.',
  security: authenticated,
  request: { params: s.deleteUser.params, query: s.deleteUser.query },
  responses: {
    200: ok('Deleted', messageResponse),
    ...errorResponses(400, 401, 403, 404, 409, 503, ...commonErrors),
  },
});
