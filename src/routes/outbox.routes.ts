import { z } from 'zod';
import * as outbox from '../controllers/outbox.controller';
import { commonErrors, errorResponses, listOf, ok } from '../openapi/registry';
import * as schemas from '../schemas/outbox.schema';
import { route } from './route';

const tags = ['admin'];
const retried = z.object({ message: z.string(), outbox: schemas.outboxResponse }).strict().meta({ id: 'OutboxRetried' });

export const outboxRoutes = [
  route({
    method: 'get',
    path: '/admin/outbox',
    operationId: 'listOutboxMessages',
    permissions: ['outbox:manage'],
    request: schemas.listOutbox,
    handler: outbox.listOutbox,
    tags,
    summary: 'E-mail outbox (ADMIN)',
    description:
      'Messages waiting (`pending`), delivered (`sent`), written to the log because no SMTP server is configured (`logged`: ' +
      'never sent), or given up after their last attempt (`failed`), newest ' +
      'first; bodies are not included. Filter with `status`.',
    responses: {
      200: listOf('Outbox messages', schemas.outboxResponse),
      ...errorResponses(400, 401, 403, 503, ...commonErrors),
    },
  }),
  route({
    method: 'post',
    path: '/admin/outbox/:message_id/retry',
    operationId: 'retryOutboxMessage',
    permissions: ['outbox:manage'],
    request: schemas.retryOutboxMessage,
    handler: outbox.retryMessage,
    tags,
    summary: 'Send a failed message again (ADMIN)',
    description:
      'Puts a `failed` message back to `pending` with a fresh set of attempts; the worker sends it on its next ' +
      'poll. A message that is not failed answers 409 `OUTBOX_NOT_FAILED`.',
    responses: {
      200: ok('Queued again', retried),
      ...errorResponses(400, 401, 403, 404, 409, 503, ...commonErrors),
    },
  }),
];
