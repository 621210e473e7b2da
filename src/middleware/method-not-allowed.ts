import type { NextFunction, Request, Response } from 'express';
import { buildOpenApiDocument } from '../openapi/document';
import { AppError } from '../utils/app-error';

interface PathMethods {
  pattern: RegExp;
  /** Path parameters: a literal path ("/customers/tickets") outranks a template ("/customers/{cust_id}"). */
  params: number;
  methods: string[];
}

const httpMethods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
let table: PathMethods[] | undefined;

/** The documented paths and their methods; openapi.yaml is checked against the routes, so it is the truth. */
function pathTable(): PathMethods[] {
  if (table) return table;
  const paths = buildOpenApiDocument().paths ?? {};
  table = Object.entries(paths).map(([path, item]) => {
    const source = path.replace(/[.*+?^${}()|[\]\\]/g, (c) => (c === '{' || c === '}' ? c : `\\${c}`)).replace(/\{[^}]+\}/g, '[^/]+');
    const methods = Object.keys(item ?? {})
      .filter((key) => httpMethods.includes(key))
      .map((m) => m.toUpperCase());
    if (methods.includes('GET')) methods.push('HEAD');
    return { pattern: new RegExp(`^${source}/?$`), params: (path.match(/\{/g) ?? []).length, methods };
  });
  return table;
}

/** The methods of the most specific documented path(s) matching this request path. */
export function allowedMethods(path: string): string[] {
  const matches = pathTable().filter((entry) => entry.pattern.test(path));
  if (matches.length === 0) return [];
  const fewest = Math.min(...matches.map((entry) => entry.params));
  return [...new Set(matches.filter((entry) => entry.params === fewest).flatMap((entry) => entry.methods))];
}

/**
 * 405 with an Allow header for a documented path called with a method it does not have. It runs before the
 * routers, so "/customers/tickets" with PATCH is refused as such rather than read as a customer id.
 */
export function methodNotAllowed(req: Request, res: Response, next: NextFunction): void {
  if (req.method === 'OPTIONS') return next();
  const allowed = allowedMethods(req.path);
  if (allowed.length === 0 || allowed.includes(req.method)) return next();
  res.setHeader('Allow', allowed.join(', '));
  throw new AppError(405, 'METHOD_NOT_ALLOWED', `Method ${req.method} is not allowed on ${req.path}`);
}
