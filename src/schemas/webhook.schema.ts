import { z } from 'zod';
import { outboxStatuses } from '../models/outbox.model';
import { webhookDisabledReasons, webhookSubscriptions } from '../models/webhook-endpoint.model';
import { pagingQuery } from '../utils/paging';
import { urlProblem } from '../utils/webhook-url';
import { objectId } from './common.schema';

const dateTime = z.string().meta({ format: 'date-time' });

const url = z
  .string()
  .trim()
  .min(1)
  .max(2048)
  .superRefine((value, ctx) => {
    const problem = urlProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .meta({
    format: 'uri',
    // What urlProblem accepts, as far as a pattern can say: http(s), no credentials, no fragment.
    pattern: '^\\s*[Hh][Tt][Tt][Pp][Ss]?://[^\\s/?#@]+([/?][^#]*)?$',
    example: 'https://hooks.example.com/crm',
    description:
      'http or https (https only in production unless WEBHOOK_ALLOW_HTTP); its host must resolve to public addresses only ' +
      '(loopback, private, link-local and metadata addresses are refused unless WEBHOOK_ALLOW_PRIVATE)',
  });

const events = z
  .array(z.enum(webhookSubscriptions))
  .min(1)
  .max(webhookSubscriptions.length)
  .refine((list) => new Set(list).size === list.length, 'must not repeat an event')
  .meta({
    uniqueItems: true,
    description: 'Event types to receive, or `*` for all',
    example: ['customer.created', 'ticket.status_changed'],
  });

const description = z.string().trim().max(500).nullable();

const includeEncrypted = z.boolean().meta({
  description: 'Interaction events carry the decrypted `notes` and `outcome` (in `object`, and in `previous` when they changed)',
});

export const webhookResponse = z
  .object({
    id: objectId,
    webhook_id: objectId,
    url: z.string(),
    events: z.array(z.enum(webhookSubscriptions)),
    description: z.string().nullable(),
    active: z.boolean(),
    include_encrypted_fields: includeEncrypted,
    disabled_reason: z
      .enum(webhookDisabledReasons)
      .nullable()
      .meta({ description: '`gone`: the receiver answered 410; `failures`: too many failed attempts in a row; `manual`' }),
    disabled_at: dateTime.nullable(),
    consecutive_failures: z.number().int(),
    secret_created_at: dateTime.nullable(),
    previous_secret_expires_at: dateTime
      .nullable()
      .meta({ description: 'Until then the previous secret signs too (rotation grace period)' }),
    created_at: dateTime,
    updated_at: dateTime,
  })
  .strict()
  .meta({ id: 'Webhook' });

const secret = z
  .string()
  .meta({ description: 'The signing secret (Standard Webhooks `whsec_…`), shown only in this answer', example: 'whsec_…' });

export const webhookCreatedResponse = z
  .object({ ...webhookResponse.shape, secret })
  .strict()
  .meta({ id: 'WebhookCreated' });
export const secretRotatedResponse = z.object({ webhook: webhookResponse, secret }).strict().meta({ id: 'WebhookSecretRotated' });

export const deliveryResponse = z
  .object({
    id: objectId,
    delivery_id: objectId,
    webhook_id: objectId,
    event_id: z.string().meta({
      description: 'The `webhook-id` header: the same for every endpoint and every attempt',
      example: 'evt_66d3ccc9e71590f28320f639',
    }),
    event: z.string().meta({ example: 'customer.created' }),
    status: z.enum(outboxStatuses).meta({ description: '`pending` (waiting or retrying), `sent` (a 2xx answer) or `failed` (given up)' }),
    attempts: z.number().int(),
    max_attempts: z.number().int(),
    next_attempt_at: dateTime,
    last_status_code: z.number().int().nullable().meta({ description: 'HTTP status of the last attempt; null when none came back' }),
    last_duration_ms: z.number().int().nullable(),
    last_error: z.string().nullable(),
    delivered_at: dateTime.nullable(),
    created_at: dateTime,
    updated_at: dateTime,
  })
  .strict()
  .meta({ id: 'WebhookDelivery' });

const webhookParams = z.object({ webhook_id: objectId }).strict();

export const createWebhook = {
  body: z
    .object({
      url,
      events,
      description: description.optional(),
      active: z.boolean().default(true),
      include_encrypted_fields: includeEncrypted.default(false),
    })
    .strict()
    .meta({ id: 'CreateWebhook' }),
};

export const listWebhooks = { query: z.object({ ...pagingQuery(['created_at'] as const, '-created_at') }).strict() };

export const webhookById = { params: webhookParams };

export const updateWebhook = {
  params: webhookParams,
  body: z
    .object({
      url: url.optional(),
      events: events.optional(),
      description: description.optional(),
      active: z.boolean().optional().meta({ description: 'true re-enables a disabled endpoint (its failure count starts again)' }),
      include_encrypted_fields: includeEncrypted.optional(),
    })
    .strict()
    .refine((body) => Object.keys(body).length > 0, 'give at least one field to change')
    .meta({ id: 'UpdateWebhook', minProperties: 1 }),
};

export const rotateWebhookSecret = {
  params: webhookParams,
  body: z
    .object({
      grace_hours: z
        .number()
        .min(0)
        .max(720)
        .optional()
        .meta({ description: 'How long the previous secret keeps signing (default WEBHOOK_SECRET_GRACE_HOURS, 24); 0 stops it at once' }),
    })
    .strict()
    .meta({ id: 'RotateWebhookSecret' }),
};

export const listDeliveries = {
  params: webhookParams,
  query: z
    .object({
      ...pagingQuery(['created_at'] as const, '-created_at'),
      status: z.enum(outboxStatuses).optional(),
    })
    .strict(),
};

export const redeliver = { params: z.object({ webhook_id: objectId, delivery_id: objectId }).strict() };

export type CreateWebhookBody = z.output<typeof createWebhook.body>;
export type UpdateWebhookBody = z.output<typeof updateWebhook.body>;
export type ListWebhooksQuery = z.output<typeof listWebhooks.query>;
export type ListDeliveriesQuery = z.output<typeof listDeliveries.query>;
