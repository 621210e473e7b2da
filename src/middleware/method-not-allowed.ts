import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AppError } from '../utils/app-error';
import { declaredFirstSegment, firstSegment, pathPattern } from './path-pattern';

/** A declared operation: an HTTP method (any case) on an Express path. */
interface Operation {
  method: string;
  path: string;
}

interface PathMethods {
  pattern: RegExp;
  /** Path parameters: a literal path ("/customers/tickets") outranks a template ("/customers/:cust_id"). */
  params: number;
  methods: string[];
}

/** The declared paths by their first segment (firstSegment; a literal: a parameter there would match any). */
type PathTable = Map<string, PathMethods[]>;

/**
 * Each declared path with its methods in declaration order, HEAD after them wherever GET is, filed under its
 * first segment: a request's path is tested against the few declared under its own (every request is).
 */
function pathTable(operations: readonly Operation[]): PathTable {
  const byPath = new Map<string, string[]>();
  for (const { method, path } of operations) byPath.set(path, [...(byPath.get(path) ?? []), method.toUpperCase()]);
  const table: PathTable = new Map();
  for (const [path, methods] of byPath) {
    const first = declaredFirstSegment(path);
    const { regexp, params } = pathPattern(path);
    const entry = { pattern: regexp, params: params.length, methods: methods.includes('GET') ? [...methods, 'HEAD'] : methods };
    table.set(first, [...(table.get(first) ?? []), entry]);
  }
  // Most specific first (stable: declaration order among equals), so a lookup can stop at the first match's rank.
  for (const entries of table.values()) entries.sort((a, b) => a.params - b.params);
  return table;
}

const none: readonly string[] = [];

/** The methods of the most specific declared path(s) matching a request path. */
function allowedMethods(table: PathTable, path: string): readonly string[] {
  let allowed = none;
  let rank = Infinity;
  for (const entry of table.get(firstSegment(path)) ?? []) {
    if (entry.params > rank) break;
    if (!entry.pattern.test(path)) continue;
    // Two declared paths of the same rank that both match (rare): the union of their methods.
    allowed = rank === Infinity ? entry.methods : [...new Set([...allowed, ...entry.methods])];
    rank = entry.params;
  }
  return allowed;
}

function refuse(req: Request, res: Response, allowed: readonly string[], path: string): never {
  res.setHeader('Allow', allowed.join(', '));
  throw new AppError(405, 'METHOD_NOT_ALLOWED', `Method ${req.method} is not allowed on ${path}`);
}

/**
 * 405 with an Allow header for a declared path called with a method it does not have. It runs before the
 * routers, so "/customers/tickets" with PATCH is refused as such rather than read as a customer id.
 */
export function methodNotAllowed(operations: readonly Operation[]): RequestHandler {
  const table = pathTable(operations);
  return function refuseUndeclaredMethod(req: Request, res: Response, next: NextFunction): void {
    if (req.method === 'OPTIONS') return next();
    const allowed = allowedMethods(table, req.path);
    if (allowed.length === 0 || allowed.includes(req.method)) return next();
    refuse(req, res, allowed, req.path);
  };
}

/** The same 405 for a mount that serves a whole subtree (static files), where the table has no entry. */
export function onlyMethod(method: string): RequestHandler {
  const allowed = method === 'GET' ? ['GET', 'HEAD'] : [method];
  return function refuseOtherMethods(req: Request, res: Response, next: NextFunction): void {
    if (allowed.includes(req.method)) return next();
    refuse(req, res, allowed, req.originalUrl.split('?', 1)[0] ?? req.path);
  };
}
