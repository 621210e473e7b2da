/**
 * Combines query filters (an access scope, a route's own scope, the list filters) so that all must hold.
 * Distinct keys are merged into one flat object, which the query planner matches against compound indexes
 * directly; a key set twice (say `user` by the scope and by `?user_id=`) goes into `$and`, so a filter can
 * narrow a scope but never widen it.
 */
export function allOf(...filters: Record<string, unknown>[]): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  const repeated: Record<string, unknown>[] = [];
  for (const filter of filters) {
    for (const [key, value] of Object.entries(filter)) {
      if (key in merged) repeated.push({ [key]: value });
      else merged[key] = value;
    }
  }
  return repeated.length > 0 ? { ...merged, $and: repeated } : merged;
}
