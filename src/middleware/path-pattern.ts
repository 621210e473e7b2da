interface PathPattern {
  regexp: RegExp;
  /** Parameter names, in the order of the regexp's groups. */
  params: string[];
}

/**
 * The regular expression of an Express path made of literal segments and `:name` parameters: case-sensitive,
 * one optional trailing slash, each parameter a non-empty segment captured in a group.
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
  return { regexp: new RegExp(`^${source}/?$`), params };
}
