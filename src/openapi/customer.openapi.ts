import { z } from 'zod';
import { messageResponse } from '../schemas/common.schema';
import * as s from '../schemas/customer.schema';
import { authenticated, commonErrors, errorResponses, jsonBody, listOf, ok, registry } from './registry';

const tags = ['customers'];
const updated = z
  .object({ message: z.literal('Customer updated successfully'), customer: s.customerResponse })
  .strict()
  .meta({ id: 'CustomerUpdated' });

registry.registerPath({
  method: 'get',
  path: '/customers',
  tags,
  summary: 'List customers (staff)',
  security: authenticated,
  request: { query: s.listCustomers.query },
  responses: {
    200: listOf('Customers', s.customerResponse),
    ...errorResponses(400, 401, 403, 503, ...commonErrors),
  },
});

registry.registerPath({
  method: 'post',
  path: '/customers',
  tags,
  summary: 'Create a customer (staff)',
  description: 'The owner defaults to the caller. A `password` lets the customer sign in.',
  security: authenticated,
  request: jsonBody(s.createCustomer.body),
  responses: {
    201: ok('Created', s.customerResponse),
    ...errorResponses(400, 401, 403, 409, 413, 415, 503, ...commonErrors),
  },
});

registry.registerPath({
  method: 'get',
  path: '/customers/{cust_id}',
  tags,
  summary: 'Read a customer (staff, or the customer itself)',
  security: authenticated,
  request: { params: s.getCustomer.params },
  responses: {
    200: ok('The customer', s.customerResponse),
    ...errorResponses(400, 401, 403, 404, 503, ...commonErrors),
  },
});

registry.registerPath({
  method: 'patch',
  path: '/customers/{cust_id}',
  tags,
  summary: 'Update a customer',
  description:
    'Staff may change any field. A customer may change its own contact details and password (with `current_password`, ' +
    'needed for a password or e-mail change), never `owner_id` or `status` (403). A wrong `current_password` counts as ' +
    'a failed sign-in of the account (same lock as sign-in: 429 with Retry-After once locked).',
  security: authenticated,
  request: { params: s.updateCustomer.params, ...jsonBody(s.updateCustomer.body) },
  responses: {
    200: ok('Updated', updated),
    ...errorResponses(400, 401, 403, 404, 409, 413, 415, 503, ...commonErrors),
  },
});

registry.registerPath({
  method: 'delete',
  path: '/customers/{cust_id}',
  tags,
  summary: 'Delete a customer (ADMIN, MANAGER)',
  description: 'A customer with interactions or tickets needs `cascade=true` (409 otherwise).',
  security: authenticated,
  request: { params: s.deleteCustomer.params, query: s.deleteCustomer.query },
  responses: {
    200: ok('Deleted', messageResponse),
    ...errorResponses(400, 401, 403, 404, 409, 503, ...commonErrors),
  },
});
