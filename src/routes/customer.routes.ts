import { z } from 'zod';
import * as customers from '../controllers/customer.controller';
import * as duplicates from '../controllers/duplicate.controller';
import { commonErrors, errorResponses, listOf, ok } from '../openapi/registry';
import { messageResponse } from '../schemas/common.schema';
import * as schemas from '../schemas/customer.schema';
import * as duplicateSchemas from '../schemas/duplicate.schema';
import { route } from './route';

const tags = ['customers'];
const updated = z
  .object({ message: z.literal('Customer updated successfully'), customer: schemas.customerResponse })
  .strict()
  .meta({ id: 'CustomerUpdated' });

export const customerRoutes = [
  route({
    method: 'get',
    path: '/customers',
    operationId: 'listCustomers',
    permissions: ['customers:read'],
    request: schemas.listCustomers,
    handler: customers.listCustomers,
    tags,
    summary: 'List customers (staff)',
    responses: {
      200: listOf('Customers', schemas.customerResponse),
      ...errorResponses(400, 401, 403, 503, ...commonErrors),
    },
  }),
  route({
    method: 'post',
    path: '/customers',
    operationId: 'createCustomer',
    permissions: ['customers:write'],
    request: schemas.createCustomer,
    handler: customers.createCustomer,
    tags,
    summary: 'Create a customer (staff)',
    description: 'The owner defaults to the caller. A `password` lets the customer sign in.',
    responses: {
      201: ok('Created', schemas.customerResponse),
      ...errorResponses(400, 401, 403, 409, 413, 415, 503, ...commonErrors),
    },
  }),
  route({
    method: 'get',
    path: '/customers/duplicates',
    operationId: 'listDuplicateCustomers',
    permissions: ['customers:write'],
    request: duplicateSchemas.listDuplicates,
    handler: duplicates.listDuplicates,
    tags,
    summary: 'Groups of likely duplicate customers (staff)',
    description:
      'Customers that share a normalised phone (E.164, national numbers read in `DEFAULT_PHONE_REGION`), e-mail (lower case; ' +
      'at gmail.com/googlemail.com without dots and `+tags`) or name within the same company (case and spaces ignored), ' +
      'grouped by that key, rule by rule (e-mail, name, phone) in a stable order; keyset paging with `cursor` (`next_cursor`, ' +
      'also a `Link: rel="next"`). ' +
      'A page may hold fewer than `limit` groups and still have a next one. ADMIN and MANAGER see every group; a USER ' +
      'sees the groups of two or more customers it owns.',
    responses: {
      200: ok('A page of duplicate groups', duplicateSchemas.duplicateGroupsPage),
      ...errorResponses(400, 401, 403, 503, ...commonErrors),
    },
  }),
  route({
    method: 'get',
    path: '/customers/:cust_id',
    operationId: 'getCustomer',
    permissions: ['customers:read', 'customers:self'],
    request: schemas.getCustomer,
    handler: customers.getCustomer,
    tags,
    summary: 'Read a customer (staff, or the customer itself)',
    responses: {
      200: ok('The customer', schemas.customerResponse),
      ...errorResponses(400, 401, 403, 404, 503, ...commonErrors),
    },
  }),
  route({
    method: 'patch',
    path: '/customers/:cust_id',
    operationId: 'updateCustomer',
    permissions: ['customers:write', 'customers:self'],
    request: schemas.updateCustomer,
    handler: customers.updateCustomer,
    tags,
    summary: 'Update a customer',
    description:
      'A JSON merge patch (RFC 7396) at every depth: a field not sent is kept, a field sent as `null` is cleared, and ' +
      '`address` is merged part by part (`{"address":{"city":"X"}}` keeps street, state and postal code; `"address": null` ' +
      'clears it whole). Staff may change any field. A customer may change its own contact details and password (with `current_password`, ' +
      'needed for a password or e-mail change), never `owner_id` or `status` (403). A wrong `current_password` counts as ' +
      'a failed sign-in of the account (same lock as sign-in: 429 with Retry-After once locked).',
    responses: {
      200: ok('Updated', updated),
      ...errorResponses(400, 401, 403, 404, 409, 413, 415, 503, ...commonErrors),
    },
  }),
  route({
    method: 'delete',
    path: '/customers/:cust_id',
    operationId: 'deleteCustomer',
    permissions: ['customers:delete'],
    request: schemas.deleteCustomer,
    handler: customers.deleteCustomer,
    tags,
    summary: 'Delete a customer (ADMIN, MANAGER)',
    description:
      'A customer with interactions or tickets needs `cascade=true` (409 otherwise). The customer (with its interactions and their ' +
      'tickets) moves to the trash as one deletion: gone from every read, restorable with `POST /trash/{deletion_id}/restore`.',
    responses: {
      200: ok('Deleted', messageResponse),
      ...errorResponses(400, 401, 403, 404, 409, 503, ...commonErrors),
    },
  }),
];
