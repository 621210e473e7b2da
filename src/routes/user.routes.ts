import { z } from 'zod';
import * as users from '../controllers/user.controller';
import { commonErrors, errorResponses, listOf, ok } from '../openapi/registry';
import { messageResponse } from '../schemas/common.schema';
import * as schemas from '../schemas/user.schema';
import { curlDataAlias, route } from './route';

const tags = ['users'];
const updated = z
  .object({ message: z.literal('user updated successfully'), user: schemas.userResponse })
  .strict()
  .meta({ id: 'UserUpdated' });

const listUsers = route({
  method: 'get',
  path: '/users',
  operationId: 'listUsers',
  permissions: ['users:read'],
  request: schemas.listUsers,
  handler: users.listUsers,
  tags,
  summary: 'List staff users',
  description: 'ADMIN and MANAGER see everyone; a USER sees only itself.',
  responses: {
    200: listOf('Staff users', schemas.userResponse),
    ...errorResponses(400, 401, 403, 503, ...commonErrors),
  },
});

const getUser = route({
  method: 'get',
  path: '/users/:user_id',
  operationId: 'getUser',
  permissions: ['users:read'],
  request: schemas.getUser,
  handler: users.getUser,
  tags,
  summary: 'Read a staff user',
  responses: {
    200: ok('The user', schemas.userResponse),
    ...errorResponses(400, 401, 403, 404, 503, ...commonErrors),
  },
});

// PUT is a partial update too: the original README's example PUTs just {"name": …}.
const updateUser = (method: 'patch' | 'put') =>
  route({
    method,
    path: '/users/:user_id',
    operationId: method === 'put' ? 'updateUserViaPut' : 'updateUser',
    permissions: ['users:manage', 'users:update-self'],
    request: schemas.updateUser,
    handler: users.updateUser,
    tags,
    summary: method === 'put' ? 'Update a staff user (partial, as PATCH)' : 'Update a staff user',
    description:
      'An ADMIN may change anything of anyone (not demote the last ADMIN). Other staff may change their own ' +
      'name, e-mail and password (with `current_password`), never their role. A password or role change ' +
      "invalidates the user's older tokens. A wrong `current_password` counts as a failed sign-in of the " +
      'account (same lock as sign-in: 429 with Retry-After once locked).',
    responses: {
      200: ok('Updated', updated),
      ...errorResponses(400, 401, 403, 404, 409, 413, 415, 503, ...commonErrors),
    },
  });

export const userRoutes = [
  listUsers,
  // The original README's `curl --data ''` examples POST with an empty body; the service reads those as GETs.
  curlDataAlias(
    listUsers,
    'listUsersViaPost',
    "Compatibility with the original README's `curl --data ''` example. A POST with a body is not accepted here.",
  ),
  curlDataAlias(getUser, 'getUserViaPost', "Compatibility with the original README's `curl --data ''` example."),
  getUser,
  updateUser('patch'),
  updateUser('put'),
  route({
    method: 'delete',
    path: '/users/:user_id',
    operationId: 'deleteUser',
    // Deleting staff users is an ADMIN's alone (SPEC §3); the service checks the same permission.
    permissions: ['users:manage'],
    request: schemas.deleteUser,
    handler: users.deleteUser,
    tags,
    summary: 'Delete a staff user (ADMIN)',
    description: 'A user who still owns customers or interactions needs `reassign_to` (409 otherwise). The last ADMIN cannot be deleted.',
    responses: {
      200: ok('Deleted', messageResponse),
      ...errorResponses(400, 401, 403, 404, 409, 503, ...commonErrors),
    },
  }),
];
