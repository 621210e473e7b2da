import { OpenAPIRegistry, type ResponseConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

/** A registry with the security schemes; openapi/document.ts adds every declared route's operation. */
export function createRegistry(): OpenAPIRegistry {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'token', {
    type: 'apiKey',
    in: 'header',
    name: 'token',
    description: 'The access JWT in a `token` header, as the original service expected.',
  });
  registry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'The same access JWT as `Authorization: Bearer <jwt>`.',
  });
  registry.registerComponent('securitySchemes', 'apiKey', {
    type: 'apiKey',
    in: 'header',
    name: 'X-API-Key',
    description: 'An API key (`crm_<prefix>_<secret>`, POST /api-keys); `Authorization: Bearer <key>` works too.',
  });
  return registry;
}

/** Any of these headers authenticates; OpenAPI lists alternatives as separate requirement objects. */
export const authenticated: Record<string, string[]>[] = [{ token: [] }, { bearer: [] }, { apiKey: [] }];

export const errorSchema = z
  .object({
    error: z.string().meta({ description: 'Human-readable message', example: 'Request validation failed' }),
    code: z.string().meta({ description: 'Stable machine-readable code', example: 'VALIDATION_ERROR' }),
    details: z
      .array(
        z
          .object({
            location: z.string().optional().meta({ example: 'body' }),
            field: z.string().meta({ example: 'email' }),
            message: z.string().meta({ example: 'Invalid email address' }),
            existing_id: z
              .string()
              .optional()
              .meta({ description: 'On a 409 DUPLICATE for a staff caller: the id of the record that already holds the value' }),
          })
          .strict(),
      )
      .meta({ description: 'One entry per offending field; empty when not applicable' }),
  })
  .strict()
  .meta({ id: 'Error' });

const errorDescriptions: Record<number, string> = {
  400: 'Invalid input: validation failed, malformed JSON or id',
  401: 'Missing, malformed, expired or revoked token',
  403: 'The caller lacks the permission',
  404: 'Not found, or not visible to the caller',
  409: 'Conflict with the current state (duplicate, or a dependent record exists)',
  410: 'Gone: what the request needs was purged',
  413: 'Request body too large',
  405: 'Method not allowed on this path (see Allow)',
  415: 'Unsupported Content-Type',
  422: 'Idempotency-Key already used for a different request',
  429: 'Rate limited; see Retry-After',
  500: 'Unexpected server error',
  503: 'Database unavailable',
};

export function errorResponses(...statuses: number[]): Record<number, ResponseConfig> {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: errorDescriptions[status] ?? 'Error',
        content: { 'application/json': { schema: errorSchema } },
      },
    ]),
  );
}

/** Statuses any route can return whatever its logic: rate limiting and server failure. */
export const commonErrors = [429, 500] as const;

export function jsonContent(schema: z.ZodType) {
  return { content: { 'application/json': { schema } } };
}

/**
 * Request bodies are documented as JSON. The service also reads urlencoded and multipart fields, and JSON
 * labelled multipart/form-data (the original's quirk), but form encodings carry only strings, so only JSON
 * can express every schema here.
 */
export function jsonBody(schema: z.ZodType) {
  return { body: { required: true, content: { 'application/json': { schema } } } };
}

export function ok(description: string, schema: z.ZodType): ResponseConfig {
  return { description, ...jsonContent(schema) };
}

/** A list: a bare JSON array, with paging in headers. */
export function listOf(description: string, item: z.ZodType): ResponseConfig {
  return {
    description,
    headers: {
      'X-Total-Count': { description: 'Rows matching the filters (page mode only)', schema: { type: 'integer' } },
      Link: { description: 'RFC 8288 links: next (keyset cursor), first, prev, last', schema: { type: 'string' } },
    },
    ...jsonContent(z.array(item)),
  };
}
