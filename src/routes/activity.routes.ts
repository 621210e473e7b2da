import * as activity from '../controllers/activity.controller';
import { commonErrors, errorResponses, listOf } from '../openapi/registry';
import * as schemas from '../schemas/activity.schema';
import { route } from './route';

const tags = ['activity'];

export const activityRoutes = [
  route({
    method: 'get',
    path: '/customers/:cust_id/activity',
    operationId: 'listCustomerActivity',
    permissions: ['activity:read'],
    request: schemas.customerActivity,
    handler: activity.customerActivity,
    tags,
    summary: "A customer's timeline (staff)",
    description:
      'Creates, updates and deletes of the customer record and of its interactions and tickets, newest first ' +
      '(made by a request, or by an import or its revert: then `job_id` names the import job): ' +
      'who acted, when, and the names of the fields set or changed (never their values). Any staff user may ' +
      'read it; customers get 403; an unknown customer 404.',
    responses: {
      200: listOf('Timeline entries', schemas.activityResponse),
      ...errorResponses(400, 401, 403, 404, 503, ...commonErrors),
    },
  }),
  route({
    method: 'get',
    path: '/activity',
    operationId: 'listActivity',
    permissions: ['activity:read-all'],
    request: schemas.listActivity,
    handler: activity.listActivity,
    tags,
    summary: 'The whole audit trail (ADMIN)',
    description:
      'Every create, update and delete of users, customers, interactions and tickets, and every import and revert ' +
      '(entity `import_job`, action `import` or `revert`; the customers they changed carry its `job_id`), newest first. Filters: ' +
      '`actor_id`, `entity`, `entity_id`, `action`, `from`/`to`. Anyone but an ADMIN gets 403.',
    responses: {
      200: listOf('Trail entries', schemas.activityResponse),
      ...errorResponses(400, 401, 403, 503, ...commonErrors),
    },
  }),
];
