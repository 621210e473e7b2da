import * as s from '../schemas/activity.schema';
import { authenticated, commonErrors, errorResponses, listOf, registry } from './registry';

const tags = ['activity'];

registry.registerPath({
  method: 'get',
  path: '/customers/{cust_id}/activity',
  tags,
  summary: "A customer's timeline (staff)",
  description:
    'Creates, updates and deletes of the customer record and of its interactions and tickets, newest first: ' +
    'who acted, when, and the names of the fields set or changed (never their values). Any staff user may ' +
    'read it; customers get 403; an unknown customer 404.',
  security: authenticated,
  request: { params: s.customerActivity.params, query: s.customerActivity.query },
  responses: {
    200: listOf('Timeline entries', s.activityResponse),
    ...errorResponses(400, 401, 403, 404, 503, ...commonErrors),
  },
});

registry.registerPath({
  method: 'get',
  path: '/activity',
  tags,
  summary: 'The whole audit trail (ADMIN)',
  description:
    'Every create, update and delete of users, customers, interactions and tickets, newest first. Filters: ' +
    '`actor_id`, `entity`, `entity_id`, `action`, `from`/`to`. Anyone but an ADMIN gets 403.',
  security: authenticated,
  request: { query: s.listActivity.query },
  responses: {
    200: listOf('Trail entries', s.activityResponse),
    ...errorResponses(400, 401, 403, 503, ...commonErrors),
  },
});
