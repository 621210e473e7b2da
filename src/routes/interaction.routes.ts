import { z } from 'zod';
import * as interactions from '../controllers/interaction.controller';
import { commonErrors, errorResponses, jsonBody, listOf, ok } from '../openapi/registry';
import { messageResponse } from '../schemas/common.schema';
import * as schemas from '../schemas/interaction.schema';
import { route } from './route';

const tags = ['interactions'];
const read = ['interactions:read'] as const;
const write = ['interactions:write'] as const;
const updated = z
  .object({ message: z.literal('Interaction updated successfully'), interaction: schemas.interactionResponse })
  .strict()
  .meta({ id: 'InteractionUpdated' });
const inserted = z
  .object({ InsertedID: z.string().meta({ example: '66d3d83afff6681e0956ca2d' }) })
  .strict()
  .meta({ id: 'InsertedID' });

const visibility =
  'ADMIN and MANAGER see every interaction; a USER sees those it owns (`user_id` = self); a customer sees its ' +
  'own, without `notes` and `outcome`.';
const listFilters =
  'Filters: `type`, `status`, `user_id`, `customer_id`, and `from`/`to` on `occurs_at` (scheduled_at, else due_at, ' +
  'else created_at; `from` inclusive, `to` exclusive). Default sort `-occurs_at`.';

export const interactionRoutes = [
  route({
    method: 'get',
    path: '/users/meetings',
    operationId: 'listMyInteractions',
    permissions: read,
    request: schemas.listInteractions,
    handler: interactions.listMyInteractions,
    tags,
    summary: "The caller's interactions",
    description: `Staff: the interactions they own (user_id = caller), whatever their role. A customer: its own interactions, without notes and outcome. ${listFilters}`,
    responses: {
      200: listOf('Interactions', schemas.interactionResponse),
      ...errorResponses(400, 401, 403, 503, ...commonErrors),
    },
  }),
  route({
    method: 'post',
    path: '/users/meetings/:customer_id',
    operationId: 'scheduleMeeting',
    permissions: write,
    request: schemas.scheduleMeeting,
    handler: interactions.scheduleMeeting,
    tags,
    summary: 'Schedule a meeting with a customer (staff)',
    description:
      'Creates a `meeting` owned by the caller and answers the original\'s `{"InsertedID": id}`. The body is ' +
      'optional: the original README sends `{}` labelled multipart/form-data.',
    documentedBody: { ...jsonBody(schemas.scheduleMeeting.body).body, required: false },
    responses: {
      201: ok('Scheduled', inserted),
      ...errorResponses(400, 401, 403, 404, 413, 415, 503, ...commonErrors),
    },
  }),
  route({
    method: 'get',
    path: '/interactions',
    operationId: 'listInteractions',
    permissions: read,
    request: schemas.listInteractions,
    handler: interactions.listInteractions,
    tags,
    summary: 'List interactions',
    description: `${visibility} ${listFilters}`,
    responses: {
      200: listOf('Interactions', schemas.interactionResponse),
      ...errorResponses(400, 401, 403, 503, ...commonErrors),
    },
  }),
  route({
    method: 'post',
    path: '/interactions',
    operationId: 'createInteraction',
    permissions: write,
    request: schemas.createInteraction,
    handler: interactions.createInteraction,
    tags,
    summary: 'Create an interaction (staff)',
    description:
      'Owned by the caller unless `user_id` names another staff user (ADMIN, MANAGER; 403 for a USER). A missing ' +
      'customer or user is a 400 on that field. `status: completed` sets `completed_at` (now unless given). ' +
      '`notes` and `outcome` are stored encrypted.',
    responses: {
      201: ok('Created', schemas.interactionResponse),
      ...errorResponses(400, 401, 403, 413, 415, 503, ...commonErrors),
    },
  }),
  route({
    method: 'get',
    path: '/interactions/user/:user_id',
    operationId: 'listUserInteractions',
    permissions: read,
    request: schemas.listUserInteractions,
    handler: interactions.listUserInteractions,
    tags,
    summary: "A staff user's interactions (or, for a customer id, that customer's)",
    description:
      'ADMIN and MANAGER may name any user; a USER only itself (404 otherwise). The original listed customer ' +
      'interactions at this same path: an id that belongs to no user is answered as `/interactions/customer/{id}`. ' +
      listFilters,
    responses: {
      200: listOf('Interactions', schemas.interactionResponse),
      ...errorResponses(400, 401, 403, 404, 503, ...commonErrors),
    },
  }),
  route({
    method: 'get',
    path: '/interactions/customer/:cust_id',
    operationId: 'listCustomerInteractions',
    permissions: read,
    request: schemas.listCustomerInteractions,
    handler: interactions.listCustomerInteractions,
    tags,
    summary: "A customer's interactions",
    description: `Staff: those of the customer they may read (a USER: only its own). A customer: only its own id (404 otherwise), without notes and outcome. ${listFilters}`,
    responses: {
      200: listOf('Interactions', schemas.interactionResponse),
      ...errorResponses(400, 401, 403, 404, 503, ...commonErrors),
    },
  }),
  route({
    method: 'get',
    path: '/interactions/:interaction_id',
    operationId: 'getInteraction',
    permissions: read,
    request: schemas.getInteraction,
    handler: interactions.getInteraction,
    tags,
    summary: 'Read an interaction',
    description: `${visibility} Anything else answers 404.`,
    responses: {
      200: ok('The interaction', schemas.interactionResponse),
      ...errorResponses(400, 401, 403, 404, 503, ...commonErrors),
    },
  }),
  route({
    method: 'patch',
    path: '/interactions/:interaction_id',
    operationId: 'updateInteraction',
    permissions: write,
    request: schemas.updateInteraction,
    handler: interactions.updateInteraction,
    tags,
    summary: 'Update an interaction (staff: own, or any for ADMIN and MANAGER)',
    description:
      'Completing sets `completed_at` (now unless given); any other status clears it. `null` clears a field. ' +
      'Handing the interaction to another `user_id` needs ADMIN or MANAGER.',
    responses: {
      200: ok('Updated', updated),
      ...errorResponses(400, 401, 403, 404, 413, 415, 503, ...commonErrors),
    },
  }),
  route({
    method: 'delete',
    path: '/interactions/:interaction_id',
    operationId: 'deleteInteraction',
    permissions: write,
    request: schemas.deleteInteraction,
    handler: interactions.deleteInteraction,
    tags,
    summary: 'Delete an interaction (staff: own, or any for ADMIN and MANAGER)',
    description: 'An interaction with tickets needs `cascade=true`, which deletes them too (409 otherwise).',
    responses: {
      200: ok('Deleted', messageResponse),
      ...errorResponses(400, 401, 403, 404, 409, 503, ...commonErrors),
    },
  }),
];
