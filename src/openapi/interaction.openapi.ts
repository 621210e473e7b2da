import { z } from 'zod';
import { messageResponse } from '../schemas/common.schema';
import * as s from '../schemas/interaction.schema';
import { authenticated, commonErrors, errorResponses, jsonBody, listOf, ok, registry } from './registry';

const tags = ['interactions'];
const updated = z
  .object({ message: z.literal('Interaction updated successfully'), interaction: s.interactionResponse })
  .strict()
  .meta({ id: 'InteractionUpdated' });
const inserted = z.object({ InsertedID: z.string().meta({ example: '66d3d83afff6681e0956ca2d' }) }).strict().meta({ id: 'InsertedID' });

const visibility =
  'ADMIN and MANAGER see every interaction; a USER sees those it owns (`user_id` = self); a customer sees its ' +
  'own, without `notes` and `outcome`.';
const listFilters =
  'Filters: `type`, `status`, `user_id`, `customer_id`, and `from`/`to` on `occurs_at` (scheduled_at, else due_at, ' +
  'else created_at; `from` inclusive, `to` exclusive). Default sort `-occurs_at`.';

registry.registerPath({
  method: 'get',
  path: '/users/meetings',
  tags,
  summary: "The caller's interactions",
  description: `Staff: the interactions they own (user_id = caller), whatever their role. A customer: its own interactions, without notes and outcome. ${listFilters}`,
  security: authenticated,
  request: { query: s.listInteractions.query },
  responses: {
    200: listOf('Interactions', s.interactionResponse),
    ...errorResponses(400, 401, 403, 503, ...commonErrors),
  },
});

const { body: jsonMeetingBody } = jsonBody(s.scheduleMeeting.body);
registry.registerPath({
  method: 'post',
  path: '/users/meetings/{customer_id}',
  tags,
  summary: 'Schedule a meeting with a customer (staff)',
  description:
    "Creates a `meeting` owned by the caller and answers the original's `{\"InsertedID\": id}`. The body is " +
    'optional: the original README sends `{}` labelled multipart/form-data.',
  security: authenticated,
  request: { params: s.scheduleMeeting.params, body: { ...jsonMeetingBody, required: false } },
  responses: {
    201: ok('Scheduled', inserted),
    ...errorResponses(400, 401, 403, 404, 413, 415, 503, ...commonErrors),
  },
});

registry.registerPath({
  method: 'get',
  path: '/interactions',
  tags,
  summary: 'List interactions',
  description: `${visibility} ${listFilters}`,
  security: authenticated,
  request: { query: s.listInteractions.query },
  responses: {
    200: listOf('Interactions', s.interactionResponse),
    ...errorResponses(400, 401, 403, 503, ...commonErrors),
  },
});

registry.registerPath({
  method: 'post',
  path: '/interactions',
  tags,
  summary: 'Create an interaction (staff)',
  description:
    'Owned by the caller unless `user_id` names another staff user (ADMIN, MANAGER; 403 for a USER). A missing ' +
    'customer or user is a 400 on that field. `status: completed` sets `completed_at` (now unless given). ' +
    '`notes` and `outcome` are stored encrypted.',
  security: authenticated,
  request: jsonBody(s.createInteraction.body),
  responses: {
    201: ok('Created', s.interactionResponse),
    ...errorResponses(400, 401, 403, 413, 415, 503, ...commonErrors),
  },
});

registry.registerPath({
  method: 'get',
  path: '/interactions/user/{user_id}',
  tags,
  summary: "A staff user's interactions (or, for a customer id, that customer's)",
  description:
    'ADMIN and MANAGER may name any user; a USER only itself (404 otherwise). The original listed customer ' +
    'interactions at this same path: an id that belongs to no user is answered as `/interactions/customer/{id}`. ' +
    listFilters,
  security: authenticated,
  request: { params: s.listUserInteractions.params, query: s.listUserInteractions.query },
  responses: {
    200: listOf('Interactions', s.interactionResponse),
    ...errorResponses(400, 401, 403, 404, 503, ...commonErrors),
  },
});

registry.registerPath({
  method: 'get',
  path: '/interactions/customer/{cust_id}',
  tags,
  summary: "A customer's interactions",
  description: `Staff: those of the customer they may read (a USER: only its own). A customer: only its own id (404 otherwise), without notes and outcome. ${listFilters}`,
  security: authenticated,
  request: { params: s.listCustomerInteractions.params, query: s.listCustomerInteractions.query },
  responses: {
    200: listOf('Interactions', s.interactionResponse),
    ...errorResponses(400, 401, 403, 404, 503, ...commonErrors),
  },
});

registry.registerPath({
  method: 'get',
  path: '/interactions/{interaction_id}',
  tags,
  summary: 'Read an interaction',
  description: `${visibility} Anything else answers 404.`,
  security: authenticated,
  request: { params: s.getInteraction.params },
  responses: {
    200: ok('The interaction', s.interactionResponse),
    ...errorResponses(400, 401, 403, 404, 503, ...commonErrors),
  },
});

registry.registerPath({
  method: 'patch',
  path: '/interactions/{interaction_id}',
  tags,
  summary: 'Update an interaction (staff: own, or any for ADMIN and MANAGER)',
  description:
    'Completing sets `completed_at` (now unless given); any other status clears it. `null` clears a field. ' +
    'Handing the interaction to another `user_id` needs ADMIN or MANAGER.',
  security: authenticated,
  request: { params: s.updateInteraction.params, ...jsonBody(s.updateInteraction.body) },
  responses: {
    200: ok('Updated', updated),
    ...errorResponses(400, 401, 403, 404, 413, 415, 503, ...commonErrors),
  },
});

registry.registerPath({
  method: 'delete',
  path: '/interactions/{interaction_id}',
  tags,
  summary: 'Delete an interaction (staff: own, or any for ADMIN and MANAGER)',
  description: 'An interaction with tickets needs `cascade=true`, which deletes them too (409 otherwise).',
  security: authenticated,
  request: { params: s.deleteInteraction.params, query: s.deleteInteraction.query },
  responses: {
    200: ok('Deleted', messageResponse),
    ...errorResponses(400, 401, 403, 404, 409, 503, ...commonErrors),
  },
});
