// Partial updates the way every PATCH body means them: a field sent with a value is set, a field sent as
// null is removed, a field not sent stays as it is.

export interface FieldChanges {
  set: Record<string, unknown>;
  unset: Record<string, ''>;
}

export type UpdateDocument = { $set: Record<string, unknown>; $unset?: Record<string, ''> };

/** Sorts a patch into the fields to $set (values) and to $unset (nulls); undefined fields are left out. */
export function patchFields(patch: Record<string, unknown>): FieldChanges {
  const changes: FieldChanges = { set: {}, unset: {} };
  for (const [field, value] of Object.entries(patch)) {
    if (value === null) changes.unset[field] = '';
    else if (value !== undefined) changes.set[field] = value;
  }
  return changes;
}

/** `$set` always (Mongoose adds updated_at to it), `$unset` only when a field goes. */
export function updateDocument({ set, unset }: FieldChanges): UpdateDocument {
  return Object.keys(unset).length > 0 ? { $set: set, $unset: unset } : { $set: set };
}
