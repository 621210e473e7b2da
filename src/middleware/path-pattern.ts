interface PathPattern {
  regexp: RegExp;
  /** Parameter names, in the order of the regexp's groups. */
  params: string[];
}

/**
 * The regular expression of an Express path made of literal segments and `:name` parameters: case-insensitive, as
 * Express matches paths, one optional trailing slash, each parameter a non-empty segment captured in a group.
 */
export function pathPattern(path: string): PathPattern {
  const params: string[] = [];
  const source = path
    .split('/')
    .map((segment) => {
      if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      params.push(segment.slice(1));
      return '([^/]+)';
    })
    .join('/');
  return { regexp: new RegExp(`^${source}/?$`, 'i'), params };
}

/**
 * A path's first segment, lower-cased as Express matches paths (case-insensitively): "/Customers/1" → "customers";
 * `''` for "/". The key under which the routers and the 405 table file a path.
 */
export function firstSegment(path: string): string {
  const end = path.indexOf('/', 1);
  return (end < 0 ? path.slice(1) : path.slice(1, end)).toLowerCase();
}

/** A path's second segment, lower-cased as firstSegment: "/customers/Ab/activity" → "ab"; `''` for "/customers" and "/customers/". */
export function secondSegment(path: string): string {
  const start = path.indexOf('/', 1);
  if (start < 0) return '';
  const end = path.indexOf('/', start + 1);
  return (end < 0 ? path.slice(start + 1) : path.slice(start + 1, end)).toLowerCase();
}

/**
 * A declared path's first segment, which must be a literal: a parameter there would match any path, and both the
 * routers (grouped by first segment) and the 405 table file each path under it.
 */
export function declaredFirstSegment(path: string): string {
  const first = firstSegment(path);
  if (first.startsWith(':')) throw new Error(`${path}: a declared path must start with a literal segment`);
  return first;
}
