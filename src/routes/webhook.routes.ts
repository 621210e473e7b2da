import * as webhooks from '../controllers/webhook.controller';
import { commonErrors, errorResponses, jsonContent, listOf, ok } from '../openapi/registry';
import { messageResponse } from '../schemas/common.schema';
import * as schemas from '../schemas/webhook.schema';
import { route } from './route';

const tags = ['webhooks'];
const permissions = ['webhooks:manage'] as const;

export const webhookRoutes = [
  route({
    method: 'post',
    path: '/webhooks',
    permissions,
    request: schemas.createWebhook,
    handler: webhooks.createWebhook,
    tags,
    operationId: 'createWebhook',
    summary: 'Create a webhook endpoint (ADMIN)',
    description:
      'Subscribes a URL to entity events. The answer carries the signing `secret` (Standard Webhooks `whsec_…`) ' +
      'once; it is never shown again. Deliveries are POSTs of `{id, type, created_at, data: {object, previous?}}` ' +
      'with `webhook-id`, `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256>` headers. A URL ' +
      'whose host resolves to a loopback, private, link-local or metadata address answers 400.',
    responses: {
      201: ok('The endpoint, with its secret', schemas.webhookCreatedResponse),
      ...errorResponses(400, 401, 403, 415, 503, ...commonErrors),
    },
  }),
  route({
    method: 'get',
    path: '/webhooks',
    permissions,
    request: schemas.listWebhooks,
    handler: webhooks.listWebhooks,
    tags,
    operationId: 'listWebhooks',
    summary: 'Webhook endpoints (ADMIN)',
    responses: { 200: listOf('Endpoints, newest first', schemas.webhookResponse), ...errorResponses(400, 401, 403, 503, ...commonErrors) },
  }),
  route({
    method: 'get',
    path: '/webhooks/:webhook_id',
    permissions,
    request: schemas.webhookById,
    handler: webhooks.getWebhook,
    tags,
    operationId: 'getWebhook',
    summary: 'One webhook endpoint (ADMIN)',
    responses: { 200: ok('The endpoint', schemas.webhookResponse), ...errorResponses(400, 401, 403, 404, 503, ...commonErrors) },
  }),
  route({
    method: 'patch',
    path: '/webhooks/:webhook_id',
    permissions,
    request: schemas.updateWebhook,
    handler: webhooks.updateWebhook,
    tags,
    operationId: 'updateWebhook',
    summary: 'Change a webhook endpoint (ADMIN)',
    description: '`active: true` re-enables an endpoint disabled by a 410 or by repeated failures; `active: false` pauses it.',
    responses: { 200: ok('The endpoint', schemas.webhookResponse), ...errorResponses(400, 401, 403, 404, 415, 503, ...commonErrors) },
  }),
  route({
    method: 'delete',
    path: '/webhooks/:webhook_id',
    permissions,
    request: schemas.webhookById,
    handler: webhooks.deleteWebhook,
    tags,
    operationId: 'deleteWebhook',
    summary: 'Delete a webhook endpoint and its deliveries (ADMIN)',
    responses: { 200: ok('Deleted', messageResponse), ...errorResponses(400, 401, 403, 404, 503, ...commonErrors) },
  }),
  route({
    method: 'post',
    path: '/webhooks/:webhook_id/test',
    permissions,
    request: schemas.webhookById,
    handler: webhooks.testWebhook,
    tags,
    operationId: 'pingWebhook',
    summary: 'Send a ping to a webhook endpoint (ADMIN)',
    description:
      'Queues a signed `ping` event for this endpoint alone; follow it in `GET /webhooks/{webhook_id}/deliveries`. ' +
      'A disabled endpoint answers 409 `WEBHOOK_DISABLED`.',
    responses: {
      202: ok('The queued delivery', schemas.deliveryResponse),
      ...errorResponses(400, 401, 403, 404, 409, 503, ...commonErrors),
    },
  }),
  route({
    method: 'post',
    path: '/webhooks/:webhook_id/rotate-secret',
    permissions,
    request: schemas.rotateWebhookSecret,
    documentedBody: { required: false, ...jsonContent(schemas.rotateWebhookSecret.body) },
    handler: webhooks.rotateSecret,
    tags,
    operationId: 'rotateWebhookSecret',
    summary: 'Rotate the signing secret (ADMIN)',
    description:
      'Answers a new secret, shown once. Deliveries carry a signature with the new and with the previous secret ' +
      'until `previous_secret_expires_at` (`grace_hours`, default 24), so a receiver can switch without missing one.',
    responses: {
      200: ok('The new secret', schemas.secretRotatedResponse),
      ...errorResponses(400, 401, 403, 404, 409, 415, 503, ...commonErrors),
    },
  }),
  route({
    method: 'get',
    path: '/webhooks/:webhook_id/deliveries',
    permissions,
    request: schemas.listDeliveries,
    handler: webhooks.listDeliveries,
    tags,
    operationId: 'listWebhookDeliveries',
    summary: "A webhook endpoint's deliveries (ADMIN)",
    description: 'Newest first: status, attempts, the last answer code and duration. Filter with `status`.',
    responses: { 200: listOf('Deliveries', schemas.deliveryResponse), ...errorResponses(400, 401, 403, 404, 503, ...commonErrors) },
  }),
  route({
    method: 'post',
    path: '/webhooks/:webhook_id/deliveries/:delivery_id/redeliver',
    permissions,
    request: schemas.redeliver,
    handler: webhooks.redeliver,
    tags,
    operationId: 'redeliverWebhookDelivery',
    summary: 'Deliver again (ADMIN)',
    description:
      'Queues a delivered or failed delivery again with fresh attempts and the same `webhook-id`. A pending one ' +
      'answers 409 `DELIVERY_PENDING`; a disabled endpoint 409 `WEBHOOK_DISABLED`.',
    responses: {
      202: ok('The queued delivery', schemas.deliveryResponse),
      ...errorResponses(400, 401, 403, 404, 409, 503, ...commonErrors),
    },
  }),
];
