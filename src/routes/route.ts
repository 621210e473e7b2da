import type { ResponseConfig, ZodRequestBody } from '@asteasolutions/zod-to-openapi';
import type { RequestHandler } from 'express';
import type { z } from 'zod';
import type { Permission } from '../config/permissions';

// One declaration per route: everything the Express router, openapi.yaml and the 405 table need, so that
// none of them can know a route the others do not (routes/router.ts, openapi/document.ts and
// middleware/method-not-allowed.ts all read the list in routes/api.ts).

type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** What `validate` parses; params and query are objects so that openapi.yaml can list them one by one. */
interface RouteRequest {
  params?: z.ZodObject | z.ZodPipe;
  query?: z.ZodObject | z.ZodPipe;
  body?: z.ZodType;
}

/** What the app being built gives the routes: its limiters, its body parser and its settings. */
export interface RouteContext {
  limits: { auth: RequestHandler; data: RequestHandler };
  parseBody: RequestHandler;
  importMaxBytes: number;
  openApiYaml: () => string;
}

/** A handler that depends on the app being built (the import's size cap, the document it serves). */
interface HandlerFactory {
  build: (context: RouteContext) => RequestHandler;
}

/**
 * Who may call: `public` reads no token; `optional` reads one when sent (and refuses a bad one); otherwise a
 * valid token is required, and with `permissions` the caller must hold at least one of them.
 */
type Access =
  { auth: 'public' | 'optional'; permissions?: never } | { auth?: 'required'; permissions?: readonly [Permission, ...Permission[]] };

interface RouteFields {
  method: HttpMethod;
  /** Express syntax: literal segments and `:name` parameters. */
  path: string;
  /**
   * The OpenAPI operationId: camelCase, verb first, unique, and stable (client generators and Postman name
   * their methods after it), so it is written here rather than derived from a path or a handler's name.
   */
  operationId: string;
  /**
   * The path as openapi.yaml lists it, when it differs from `path` only by its parameters' names: OpenAPI
   * forbids two templates that differ only that way, which the original's `/customers/ticket/:interaction_id`
   * and `/customers/ticket/:ticket_id` do. Its parameters take, in order, the schemas of `path`'s.
   */
  documentedPath?: string;
  /** A stricter limit besides the global one; `none` is exempt from every limit (health checks, docs). */
  rateLimit?: 'auth' | 'data' | 'none';
  /** The answer carries tokens: `Cache-Control: no-store`, also documented on its 2xx responses. */
  noStore?: true;
  /** 503 at once while the database is away, before anything else reads it. */
  requireDatabase?: true;
  /** `false`: the handler reads (or drains) the raw body itself, so the shared body parser stays away. */
  parseBody?: false;
  /** Lifts the body deadline once the caller is authorized: slow uploads of large files. */
  slowBody?: true;
  /** Also serves every path below `path` (static files); any other method there answers 405. */
  prefix?: true;
  request?: RouteRequest;
  handler: RequestHandler | readonly RequestHandler[] | HandlerFactory;
  tags: string[];
  summary: string;
  description?: string;
  /** Replaces the request body documented from `request.body` (other media types, an optional body). */
  documentedBody?: ZodRequestBody;
  responses: Record<number, ResponseConfig>;
}

export type RouteSpec = RouteFields & Access;
export type Route = RouteSpec & { kind: 'route' };

/**
 * `POST` standing for the `GET` of the same path: the original README's `curl --data ''` examples turn GETs
 * into empty-bodied POSTs. Served by rewriting the method (middleware/curl-compat.ts), documented as
 * deprecated.
 */
interface CurlDataAlias {
  kind: 'curl-data-alias';
  method: 'post';
  path: string;
  operationId: string;
  of: Route;
  description: string;
}

export type RouteDeclaration = Route | CurlDataAlias;

const supportedPath = /^(\/([\w.-]+|:\w+))+$/;
const camelCase = /^[a-z][a-zA-Z0-9]*$/;

/** The path with every parameter's name blanked: two paths with the same shape are one URL template. */
export function pathShape(path: string): string {
  return path.replace(/:\w+/g, ':');
}

function checkOperationId(operationId: string, path: string): void {
  if (!camelCase.test(operationId)) throw new Error(`operationId ${operationId} of ${path} is not camelCase`);
}

export function route(spec: RouteSpec): Route {
  if (!supportedPath.test(spec.path)) throw new Error(`Unsupported route path ${spec.path}: literal segments and :params only`);
  checkOperationId(spec.operationId, spec.path);
  if (spec.documentedPath !== undefined && pathShape(spec.documentedPath) !== pathShape(spec.path)) {
    throw new Error(`documentedPath ${spec.documentedPath} must differ from ${spec.path} only by parameter names`);
  }
  return { kind: 'route', ...spec };
}

export function curlDataAlias(of: Route, operationId: string, description: string): CurlDataAlias {
  if (of.method !== 'get') throw new Error(`A curl --data alias stands for a GET, not ${of.method.toUpperCase()} ${of.path}`);
  checkOperationId(operationId, of.path);
  return { kind: 'curl-data-alias', method: 'post', path: of.path, operationId, of, description };
}

/**
 * Whether a route honours Idempotency-Key: every POST and PATCH of an authenticated caller, except answers that
 * carry a token or a secret (`noStore`), which are never stored.
 */
export function acceptsIdempotencyKey(route: Route): boolean {
  return (route.method === 'post' || route.method === 'patch') && route.auth !== 'public' && route.auth !== 'optional' && !route.noStore;
}

/** `/users/:user_id` → `/users/{user_id}`. */
export function openApiPath(path: string): string {
  return path.replace(/:(\w+)/g, '{$1}');
}
