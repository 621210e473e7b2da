import * as trash from '../controllers/trash.controller';
import { commonErrors, errorResponses, listOf, ok } from '../openapi/registry';
import { messageResponse } from '../schemas/common.schema';
import * as schemas from '../schemas/trash.schema';
import { route } from './route';

const tags = ['trash'];

export const trashRoutes = [
  route({
    method: 'get',
    path: '/trash',
    operationId: 'listTrash',
    permissions: ['trash:read'],
    request: schemas.listTrash,
    handler: trash.listTrash,
    tags,
    summary: 'Deletions that can be restored (ADMIN, MANAGER)',
    description:
      'One row per deletion (a customer deleted with its interactions and tickets is one row), newest first, with its ' +
      'counts and a summary of the deleted record. Filters: `entity`, `deleted_by`, `from`/`to` on the deletion time. ' +
      'Deletions older than `TRASH_RETENTION_DAYS` are purged in the background.',
    responses: {
      200: listOf('Deletions', schemas.deletionResponse),
      ...errorResponses(400, 401, 403, 503, ...commonErrors),
    },
  }),
  route({
    method: 'get',
    path: '/trash/:deletion_id',
    operationId: 'getDeletion',
    permissions: ['trash:read'],
    request: schemas.deletionParams,
    handler: trash.getDeletion,
    tags,
    summary: 'One deletion and its records (ADMIN, MANAGER)',
    responses: {
      200: ok('The deletion and its records', schemas.deletionDetailResponse),
      ...errorResponses(400, 401, 403, 404, 503, ...commonErrors),
    },
  }),
  route({
    method: 'post',
    path: '/trash/:deletion_id/restore',
    operationId: 'restoreDeletion',
    permissions: ['trash:restore'],
    request: schemas.deletionParams,
    handler: trash.restoreDeletion,
    tags,
    summary: 'Restore everything one deletion removed (ADMIN, MANAGER)',
    description:
      'The records come back with the same ids, counted again in analytics, with a `restore` entry on the activity trail and ' +
      '`<entity>.restored` webhook events. 409 when a record cannot come back, naming what blocks it (its customer or ' +
      'interaction is not live — e.g. in another deletion, restore that first), and for the sources of a merge, which ' +
      'come back with `POST /merges/{merge_id}/undo`.',
    responses: {
      200: ok('Restored', schemas.restoreResponse),
      ...errorResponses(400, 401, 403, 404, 409, 503, ...commonErrors),
    },
  }),
  route({
    method: 'delete',
    path: '/trash/:deletion_id',
    operationId: 'purgeDeletion',
    permissions: ['trash:purge'],
    request: schemas.deletionParams,
    handler: trash.purgeDeletion,
    tags,
    summary: 'Purge a deletion now, beyond restore (ADMIN)',
    responses: {
      200: ok('Purged', messageResponse),
      ...errorResponses(400, 401, 403, 404, 503, ...commonErrors),
    },
  }),
];
