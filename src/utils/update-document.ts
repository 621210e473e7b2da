// Partial updates the way every PATCH body means them (JSON merge patch, RFC 7396): a field sent with a value
// is set, a field sent as null is removed, a field not sent stays as it is — at every depth, so a nested
// object in a patch changes only the members it names.

export interface FieldChanges {
  set: Record<string, unknown>;
  unset: Record<string, ''>;
}

export type UpdateDocument = { $set: Record<string, unknown>; $unset?: Record<string, ''> };

/** A JSON object, as opposed to an array, a date, an ObjectId or any other value a patch may carry. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * Sorts top-level fields into the fields to $set (values) and to $unset (nulls); undefined fields are left
 * out. A value replaces the stored field whole (an update builder, or a before-image put back).
 */
export function patchFields(patch: Record<string, unknown>): FieldChanges {
  const changes: FieldChanges = { set: {}, unset: {} };
  for (const [field, value] of Object.entries(patch)) {
    if (value === null) changes.unset[field] = '';
    else if (value !== undefined) changes.set[field] = value;
  }
  return changes;
}

/**
 * A merge patch (RFC 7396) as $set/$unset on dotted paths: a nested object is merged member by member
 * (`{"address": {"city": "X"}}` sets `address.city` only), null removes, an array or any other value
 * replaces. `current` is the stored record: a nested object patched onto a field that holds no object is set
 * whole, and a nested object whose members would all be removed is removed itself (no empty `{}` left).
 */
export function mergePatchFields(patch: Record<string, unknown>, current: Record<string, unknown> = {}, prefix = ''): FieldChanges {
  const changes: FieldChanges = { set: {}, unset: {} };
  for (const [field, value] of Object.entries(patch)) {
    const path = `${prefix}${field}`;
    const stored = current[field];
    if (value === undefined) continue;
    if (value === null) {
      if (stored !== undefined) changes.unset[path] = '';
    } else if (!isPlainObject(value)) changes.set[path] = value;
    else if (!isPlainObject(stored)) {
      const merged = mergePatch({}, value);
      if (Object.keys(merged).length > 0) changes.set[path] = merged;
      else if (stored !== undefined) changes.unset[path] = '';
    } else if (Object.keys(mergePatch(stored, value)).length === 0) changes.unset[path] = '';
    else {
      const nested = mergePatchFields(value, stored, `${path}.`);
      Object.assign(changes.set, nested.set);
      Object.assign(changes.unset, nested.unset);
    }
  }
  return changes;
}

/** RFC 7396's MergePatch(target, patch) for objects: the record a merge patch leaves (inputs untouched). */
export function mergePatch(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = { ...target };
  for (const [field, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (value === null) delete result[field];
    else if (isPlainObject(value)) {
      const stored = result[field];
      const merged = mergePatch(isPlainObject(stored) ? stored : {}, value);
      if (Object.keys(merged).length > 0) result[field] = merged;
      else delete result[field];
    } else result[field] = value;
  }
  return result;
}

/** `$set` always (Mongoose adds updated_at to it), `$unset` only when a field goes. */
export function updateDocument({ set, unset }: FieldChanges): UpdateDocument {
  return Object.keys(unset).length > 0 ? { $set: set, $unset: unset } : { $set: set };
}

/** The record an update leaves: `changes` ($set/$unset, dotted paths included) applied to a copy of `doc`. */
export function applyFieldChanges<T extends Record<string, unknown>>(doc: T, { set, unset }: FieldChanges): T {
  const result: Record<string, unknown> = { ...doc };
  const parentOf = (path: string[]): Record<string, unknown> => {
    let node = result;
    for (const key of path) {
      const child = node[key];
      const copy = isPlainObject(child) ? { ...child } : {};
      node[key] = copy;
      node = copy;
    }
    return node;
  };
  for (const path of Object.keys(unset)) {
    const keys = path.split('.');
    const last = keys.pop() ?? path;
    delete parentOf(keys)[last];
  }
  for (const [path, value] of Object.entries(set)) {
    const keys = path.split('.');
    const last = keys.pop() ?? path;
    parentOf(keys)[last] = value;
  }
  // A caller-typed copy: the same fields as `doc`, some changed (the one cast of this helper).
  return result as T;
}
