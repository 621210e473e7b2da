import * as merges from '../controllers/merge.controller';
import { commonErrors, errorResponses, ok } from '../openapi/registry';
import * as schemas from '../schemas/merge.schema';
import { route } from './route';

const tags = ['merges'];
const permissions = ['customers:merge'] as const;

export const mergeRoutes = [
  route({
    method: 'post',
    path: '/customers/:cust_id/merge',
    operationId: 'mergeCustomers',
    permissions,
    request: schemas.mergeCustomers,
    handler: merges.mergeCustomers,
    tags,
    summary: 'Merge duplicate customers into this one (ADMIN, MANAGER)',
    description:
      'The target (the path) keeps its values; each of its empty fields (company, phone, owner, each address part) takes ' +
      'the first non-empty value among the sources, in the order of `source_ids`; `prefer` names, per field, a source whose ' +
      "value replaces the target's own for that field only (name and status change only this way). Tags are united. " +
      'Interactions, tickets, notifications and timeline entries of the sources move to the target; the sources go to the ' +
      'trash marked `merged_into` (their e-mails stay taken) and can come back with `POST /merges/{merge_id}/undo` within ' +
      'the trash retention. The answer is the merge record (what moved, what was filled) and the target after the merge. ' +
      'An unknown source, the target among the sources or a repeated source answers 400; an unknown target 404; 409 ' +
      'while another merge or undo of one of these customers is under way.',
    responses: {
      201: ok('Merged', schemas.mergeResultResponse),
      ...errorResponses(400, 401, 403, 404, 409, 413, 415, 503, ...commonErrors),
    },
  }),
  route({
    method: 'get',
    path: '/merges/:merge_id',
    operationId: 'getMerge',
    permissions,
    request: schemas.getMerge,
    handler: merges.getMerge,
    tags,
    summary: 'A merge: what moved and what was filled (ADMIN, MANAGER)',
    responses: {
      200: ok('The merge', schemas.mergeResponse),
      ...errorResponses(400, 401, 403, 404, 503, ...commonErrors),
    },
  }),
  route({
    method: 'post',
    path: '/merges/:merge_id/undo',
    operationId: 'undoMerge',
    permissions,
    request: schemas.undoMerge,
    handler: merges.undoMerge,
    tags,
    summary: 'Undo a merge (ADMIN, MANAGER)',
    description:
      'Restores the sources from the trash with their ids, moves back exactly the records the merge moved that still point ' +
      "at the target, reverts the target's filled fields that still hold the merged value and removes the tags the merge " +
      'added. What changed since the merge (a record deleted or moved elsewhere, a field edited) is left as it is and listed ' +
      'in `undo.conflicts`. A second undo answers 409, as does an undo while the target itself is not live or a source ' +
      'cannot come back (its e-mail taken meanwhile); after the trash retention, once the sources are purged, 410.',
    responses: {
      200: ok('Undone', schemas.mergeResultResponse),
      ...errorResponses(400, 401, 403, 404, 409, 410, 503, ...commonErrors),
    },
  }),
];
