import { OpenApiGeneratorV31, type ResponseConfig, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { stringify } from 'yaml';
import { z } from 'zod';
import { acceptsIdempotencyKey, openApiPath, type Route, type RouteDeclaration } from '../routes/route';
import { authenticated, createRegistry, errorResponses, jsonBody } from './registry';

const noStoreHeaders = {
  'Cache-Control': { description: 'Always `no-store`', schema: { type: 'string' as const, enum: ['no-store'] } },
  Pragma: { description: 'Always `no-cache` (HTTP/1.0 caches)', schema: { type: 'string' as const, enum: ['no-cache'] } },
};

const idempotencyHeader = z.object({
  'Idempotency-Key': z
    .string()
    .min(1)
    .max(255)
    // What middleware/idempotency.ts accepts of the raw header (HTTP trims its surrounding spaces): printable
    // ASCII with something besides spaces, and not the empty structured-field string `""`.
    .regex(/^(?!""$)[\x20-\x7e]*[\x21-\x7e][\x20-\x7e]*$/)
    .optional()
    .meta({
      description:
        '1 to 255 printable ASCII characters, bare or as a structured-field string (`"…"`). The first answer for this key ' +
        '(per caller) is kept 24 h: the same request again replays it with `Idempotent-Replayed: true` and changes nothing; ' +
        'another request with the key answers 422; while the first still runs, 409 with `Retry-After`.',
      example: '8e03978e-40d5-43e8-bc93-6894a57f9324',
    }),
});

const replayedHeader = {
  'Idempotent-Replayed': {
    description: '`true` when this is the stored answer to an earlier request with the same Idempotency-Key',
    schema: { type: 'string' as const, enum: ['true'] },
  },
};

/** Idempotency-Key routes may replay (a header on success) and refuse a malformed key (400), a key in use or reused (409, 422). */
function idempotentResponses(route: Route): Record<number, ResponseConfig> {
  const responses = Object.entries(route.responses).map(([status, response]): [string, ResponseConfig] => [
    status,
    status.startsWith('2') ? { ...response, headers: { ...response.headers, ...replayedHeader } } : response,
  ]);
  return { ...errorResponses(400, 409, 422), ...Object.fromEntries(responses) };
}

/** Answers that carry tokens or credentials say they are never stored by a cache. */
function documentedResponses(route: Route): Record<number, ResponseConfig> {
  if (acceptsIdempotencyKey(route)) return idempotentResponses(route);
  if (!route.noStore) return route.responses;
  return Object.fromEntries(
    Object.entries(route.responses).map(([status, response]) => [
      status,
      status.startsWith('2') ? { ...response, headers: noStoreHeaders } : response,
    ]),
  );
}

type RequestParams = NonNullable<Route['request']>['params'];

const parameterName = (path: string) => [...path.matchAll(/:(\w+)/g)].map((match) => match[1] ?? '');

/**
 * The path parameters under the names of `documentedPath`: the schema of each of `path`'s parameters, in
 * order, under the documented name (its description says what the operation means by it).
 */
function documentedParams(route: Route): RequestParams {
  const params = route.request?.params;
  if (route.documentedPath === undefined || params === undefined) return params;
  if (!(params instanceof z.ZodObject)) throw new Error(`documentedPath needs object params: ${route.path}`);
  const shape: Record<string, z.ZodType> = params.shape;
  const documented = parameterName(route.documentedPath);
  const renamed = parameterName(route.path).map((name, i) => {
    const schema = shape[name];
    if (schema === undefined) throw new Error(`${route.path}: no schema for its parameter ${name}`);
    return [documented[i] ?? name, schema] as const;
  });
  return z.strictObject(Object.fromEntries(renamed));
}

function documentedRequest(route: Route): RouteConfig['request'] {
  const { query, body } = route.request ?? {};
  const params = documentedParams(route);
  const request: RouteConfig['request'] = {
    ...(params && { params }),
    ...(query && { query }),
    ...(route.documentedBody ? { body: route.documentedBody } : body && jsonBody(body)),
    ...(acceptsIdempotencyKey(route) && { headers: idempotencyHeader }),
  };
  return Object.keys(request).length > 0 ? request : undefined;
}

// `public` lists no requirement at all (an empty list), so that no operation inherits or omits security by accident.
const securityOf = { public: [], optional: [...authenticated, {}], required: authenticated };

/**
 * One operation of openapi.yaml, its keys in the order the document lists them. A curl alias is its GET's
 * operation as a deprecated POST, which may also be refused as any POST with a body (415).
 */
function operationOf(declaration: RouteDeclaration): RouteConfig {
  const [route, alias] = declaration.kind === 'route' ? [declaration, undefined] : [declaration.of, declaration];
  const path = openApiPath(route.documentedPath ?? declaration.path);
  const description = alias ? alias.description : route.description;
  const security = securityOf[route.auth ?? 'required'];
  const request = documentedRequest(route);
  return {
    method: declaration.method,
    path,
    operationId: declaration.operationId,
    tags: route.tags,
    summary: alias ? `Same as GET ${path}, for an empty-bodied POST (curl --data '')` : route.summary,
    ...(description !== undefined && { description }),
    ...(alias && { deprecated: true }),
    security,
    ...(request && { request }),
    responses: alias ? { ...documentedResponses(route), ...errorResponses(415) } : documentedResponses(route),
  };
}

/** The OpenAPI document of the declared routes, in their order, from the zod schemas that validate them. */
export function buildOpenApiDocument(routes: readonly RouteDeclaration[]) {
  const registry = createRegistry();
  const operationIds = new Set<string>();
  for (const declaration of routes) {
    if (operationIds.has(declaration.operationId)) throw new Error(`operationId ${declaration.operationId} is declared twice`);
    operationIds.add(declaration.operationId);
    registry.registerPath(operationOf(declaration));
  }
  const generator = new OpenApiGeneratorV31(registry.definitions);
  return generator.generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'CRM API',
      version: '1.0.0',
      description:
        'Staff users, customers, interactions, tickets, notifications, import/export and analytics. ' +
        'Authenticate with the access JWT in a `token` header or as `Authorization: Bearer <jwt>`, or with an API key ' +
        '(`X-API-Key: crm_…` or `Authorization: Bearer crm_…`; see POST /api-keys). ' +
        'Every POST and PATCH of an authenticated caller accepts an `Idempotency-Key` header (except answers holding a secret). ' +
        'Request field names match case-insensitively. Errors always have the `Error` shape. ' +
        'Besides the statuses listed per route, any request may be answered 408 (its body did not arrive within BODY_TIMEOUT_MS; ' +
        'the connection closes), 429 (too many unfinished request bodies from one client), 431 (headers too large) ' +
        'or 400 (a request that is not valid HTTP), all with the `Error` shape.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: '/', description: 'The server this document is served from' }],
  });
}

const cache = new WeakMap<readonly RouteDeclaration[], string>();

/** The document as YAML, generated once per list of routes. */
export function openApiYaml(routes: readonly RouteDeclaration[]): string {
  let yaml = cache.get(routes);
  if (yaml === undefined) {
    yaml = stringify(buildOpenApiDocument(routes), { lineWidth: 0, aliasDuplicateObjects: false });
    cache.set(routes, yaml);
  }
  return yaml;
}
