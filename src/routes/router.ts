import { Router, type RequestHandler } from 'express';
import { authenticate, authenticateOptional, authorize } from '../middleware/authenticate';
import { allowSlowBody } from '../middleware/body-deadline';
import { curlDataCompat, type CurlDataPath } from '../middleware/curl-compat';
import { captureBodyDigest, idempotency } from '../middleware/idempotency';
import { methodNotAllowed, onlyMethod } from '../middleware/method-not-allowed';
import { declaredFirstSegment, firstSegment, secondSegment } from '../middleware/path-pattern';
import { noStore } from '../middleware/no-store';
import { requireDatabase } from '../middleware/require-database';
import { validate } from '../middleware/validate';
import { acceptsIdempotencyKey, type Route, type RouteContext, type RouteDeclaration } from './route';

/**
 * Every route's middleware, always in this order: body digest (Idempotency-Key routes), body parser, stricter
 * rate limit, no-store, database check, authentication, permission, slow-body allowance (only once the caller
 * is known to be allowed), validation, idempotency claim, handler.
 */
function chainOf(route: Route, context: RouteContext): RequestHandler[] {
  const chain: RequestHandler[] = [];
  const idempotent = acceptsIdempotencyKey(route);
  if (idempotent) chain.push(captureBodyDigest);
  if (route.parseBody !== false) chain.push(context.parseBody);
  if (route.rateLimit === 'auth' || route.rateLimit === 'data') chain.push(context.limits[route.rateLimit]);
  if (route.noStore) chain.push(noStore);
  if (route.requireDatabase) chain.push(requireDatabase);
  if (route.auth === 'optional') chain.push(authenticateOptional);
  else if (route.auth !== 'public') chain.push(authenticate);
  if (route.permissions) chain.push(authorize(...route.permissions));
  if (route.slowBody) chain.push(allowSlowBody);
  if (route.request) chain.push(validate(route.request));
  if (idempotent) chain.push(idempotency);
  const { handler } = route;
  if (typeof handler === 'function') chain.push(handler);
  else if ('build' in handler) chain.push(handler.build(context));
  else chain.push(...handler);
  return chain;
}

function mount(router: Router, route: Route, context: RouteContext): void {
  const chain = chainOf(route, context);
  if (route.prefix) router.use(route.path, onlyMethod(route.method.toUpperCase()), ...chain);
  else router[route.method](route.path, ...chain);
}

/** 0 for a literal segment, 1 for a parameter. */
const segmentKinds = (path: string) => path.split('/').map((segment) => (segment.startsWith(':') ? 1 : 0));

/**
 * Express takes the first route that matches, so routes are mounted in this order: at the first place two
 * paths differ, a literal segment outranks a parameter ("/users/meetings" before "/users/:user_id",
 * "/customers/tickets/:ticket_id" before "/customers/:cust_id/activity"), shorter paths first otherwise. The
 * sort is stable: routes of one path keep their declaration order.
 */
function byMatchingOrder(a: Route, b: Route): number {
  const [left, right] = [segmentKinds(a.path), segmentKinds(b.path)];
  for (let i = 0; i < Math.min(left.length, right.length); i += 1) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return left.length - right.length;
}

/**
 * The routes of one first segment. A router tries its routes one by one, matching each path in turn, so they are
 * split again by their second segment: a router per literal second segment (`''` for the first segment's own
 * path), tried first, then one for the routes whose second segment is a parameter. That is the order byMatchingOrder
 * gives them, a literal outranking a parameter at the first place two paths differ. GET /customers/:cust_id is then
 * the first route its router tries, where it was the ninth. A prefix mount (/docs) matches paths with any second
 * segment, so the routes of its segment stay in one router.
 */
class SegmentRoutes {
  private readonly routes: Route[] = [];

  add(route: Route): void {
    this.routes.push(route);
  }

  /** The routers (in the order they are tried) and the middleware that runs a request through them. */
  build(context: RouteContext): { routers: Router[]; handle: RequestHandler } {
    const routerOf = (routes: Route[]) => {
      const router = Router();
      for (const route of routes) mount(router, route, context);
      return router;
    };
    if (this.routes.some((route) => route.prefix)) {
      const router = routerOf(this.routes);
      return { routers: [router], handle: router };
    }
    const bySecond = new Map<string, Route[]>();
    const parameterRoutes: Route[] = [];
    for (const route of this.routes) {
      const second = secondSegment(route.path);
      if (second.startsWith(':')) {
        parameterRoutes.push(route);
        continue;
      }
      const routes = bySecond.get(second) ?? [];
      routes.push(route);
      bySecond.set(second, routes);
    }
    const literal = new Map([...bySecond].map(([second, routes]) => [second, routerOf(routes)]));
    const parameter = parameterRoutes.length > 0 ? routerOf(parameterRoutes) : undefined;
    const handle: RequestHandler = (req, res, next) => {
      const first = literal.get(secondSegment(req.path));
      if (!first) return parameter ? parameter(req, res, next) : next();
      if (!parameter) return first(req, res, next);
      // No route of the literal router answered (no error either): on to the parameter routes, as one router would.
      first(req, res, (error?: unknown) => (error === undefined || error === null ? parameter(req, res, next) : next(error)));
    };
    return { routers: [...literal.values(), ...(parameter ? [parameter] : [])], handle };
  }
}

/**
 * Routes grouped by the first segment of their path (SegmentRoutes). In one router of every route, GET
 * /customers/:cust_id was the 46th of 67 routes tried, and a request for no route of the router waited a turn of the
 * event loop (the router ends with setImmediate). Only the routes of a request's first segment can match it, and
 * every declared path starts with a literal segment (declaredFirstSegment), so each group keeps the order in which
 * its routes were tried.
 */
class RouteGroups {
  private readonly groups = new Map<string, SegmentRoutes>();

  add(route: Route): void {
    const segment = declaredFirstSegment(route.path);
    const group = this.groups.get(segment) ?? new SegmentRoutes();
    this.groups.set(segment, group);
    group.add(route);
  }

  /** The middleware that runs a request through its group; its `routers` are the groups' routers, for reading back. */
  handler(context: RouteContext): RequestHandler & { routers: Router[] } {
    const built = new Map([...this.groups].map(([segment, group]) => [segment, group.build(context)]));
    const dispatch: RequestHandler = (req, res, next) => {
      const group = built.get(firstSegment(req.path));
      if (group) group.handle(req, res, next);
      else next();
    };
    return Object.assign(dispatch, { routers: [...built.values()].flatMap((group) => group.routers) });
  }
}

/** What createApp mounts, in this order, around the global rate limit. */
interface Api {
  /** Routes exempt from every rate limit (health checks, docs): before the global limiter. */
  unlimited: RequestHandler;
  /** Serves the curl --data aliases as their GETs. */
  curlDataCompat: RequestHandler;
  /** 405 with Allow for a declared path called with an undeclared method. */
  methodNotAllowed: RequestHandler;
  /** Every other route. */
  routes: RequestHandler;
}

/** The Express side of the route declarations: routers, the curl alias rewrite and the 405 table. */
export function buildApi(declarations: readonly RouteDeclaration[], context: RouteContext): Api {
  const [unlimited, limited] = [new RouteGroups(), new RouteGroups()];
  const routes = declarations.filter((declaration): declaration is Route => declaration.kind === 'route');
  for (const route of [...routes].sort(byMatchingOrder)) (route.rateLimit === 'none' ? unlimited : limited).add(route);
  return {
    unlimited: unlimited.handler(context),
    curlDataCompat: curlDataCompat(curlDataPaths(declarations)),
    methodNotAllowed: methodNotAllowed(declarations),
    routes: limited.handler(context),
  };
}

function curlDataPaths(declarations: readonly RouteDeclaration[]): CurlDataPath[] {
  return declarations.flatMap((declaration) =>
    declaration.kind === 'curl-data-alias' ? [{ path: declaration.path, params: declaration.of.request?.params }] : [],
  );
}
