import type { NextFunction, Request, Response } from 'express';
import { buildOpenApiDocument } from '../openapi/document';
import { AppError } from '../utils/app-error';

interface PathMethods {
  pattern: RegExp;
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
    return { pattern: new RegExp(`^${source}/?$`), methods };
  });
  return table;
}

/** 405 with an Allow header for a known path called with a method it does not have (before the 404). */
export function methodNotAllowed(req: Request, res: Response, next: NextFunction): void {
  const allowed = pathTable()
    .filter((entry) => entry.pattern.test(req.path))
    .flatMap((entry) => entry.methods);
  if (allowed.length === 0 || allowed.includes(req.method)) return next();
  res.setHeader('Allow', [...new Set(allowed)].join(', '));
  throw new AppError(405, 'METHOD_NOT_ALLOWED', `Method ${req.method} is not allowed on ${req.path}`);
}
