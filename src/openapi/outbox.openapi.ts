import { z } from 'zod';
import * as s from '../schemas/outbox.schema';
import { authenticated, commonErrors, errorResponses, listOf, ok, registry } from './registry';

const tags = ['admin'];
const retried = z.object({ message: z.string(), outbox: s.outboxResponse }).strict().meta({ id: 'OutboxRetried' });

registry.registerPath({
  method: 'get',
  path: '/admin/outbox',
  tags,
  summary: 'E-mail outbox (ADMIN)',
  description:
    'Messages waiting (`pending`), delivered (`sent`) or given up after their last attempt (`failed`), newest ' +
    'first; bodies are not included. Filter with `status`.',
  security: authenticated,
  request: { query: s.listOutbox.query },
  responses: {
    200: listOf('Outbox messages', s.outboxResponse),
    ...errorResponses(400, 401, 403, 503, ...commonErrors),
  },
});

registry.registerPath({
  method: 'post',
  path: '/admin/outbox/{message_id}/retry',
  tags,
  summary: 'Send a failed message again (ADMIN)',
  description:
    'Puts a `failed` message back to `pending` with a fresh set of attempts; the worker sends it on its next ' +
    'poll. A message that is not failed answers 409 `OUTBOX_NOT_FAILED`.',
  security: authenticated,
  request: { params: s.retryOutboxMessage.params },
  responses: {
    200: ok('Queued again', retried),
    ...errorResponses(400, 401, 403, 404, 409, 503, ...commonErrors),
  },
});
