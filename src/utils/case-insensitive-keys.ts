import type { z } from 'zod';

// The original service decoded JSON with Go's encoding/json, which matches object keys to fields
// case-insensitively: {"Name": …} and {"name": …} are the same request. This maps incoming keys onto the
// keys a zod schema declares, recursively, so the schema itself can stay strict and snake_case.

type Def = { type: string; innerType?: z.ZodType; in?: z.ZodType; element?: z.ZodType; shape?: Record<string, z.ZodType> };

function defOf(schema: z.ZodType): Def {
  // zod's internal def is typed per schema kind; only these few structural fields are read.
  const def: Def = schema._zod.def;
  return def;
}

/** Peels optional/nullable/default/pipe wrappers down to the schema that describes the value's shape. */
function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (let depth = 0; depth < 20; depth += 1) {
    const def = defOf(current);
    const inner = def.type === 'pipe' ? def.in : def.innerType;
    if (!inner) return current;
    current = inner;
  }
  return current;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function matchKeysCaseInsensitively(value: unknown, schema: z.ZodType): unknown {
  const target = unwrap(schema);
  const def = defOf(target);
  if (def.type === 'array' && def.element && Array.isArray(value)) {
    const element = def.element;
    return value.map((item) => matchKeysCaseInsensitively(item, element));
  }
  if (def.type !== 'object' || !def.shape || !isPlainObject(value)) return value;

  const shape = def.shape;
  const canonical = new Map(Object.keys(shape).map((key) => [key.toLowerCase(), key]));
  const result: Record<string, unknown> = {};
  // Exact matches first, so {"name": "a", "Name": "b"} keeps "a", as Go's decoder prefers an exact match.
  for (const [key, item] of Object.entries(value)) {
    if (key in shape) result[key] = item;
  }
  for (const [key, item] of Object.entries(value)) {
    if (key in shape) continue;
    const mapped = canonical.get(key.toLowerCase());
    if (mapped === undefined) result[key] = item;
    else if (!(mapped in result)) result[mapped] = item;
  }
  for (const [key, fieldSchema] of Object.entries(shape)) {
    if (key in result) result[key] = matchKeysCaseInsensitively(result[key], fieldSchema);
  }
  return result;
}
