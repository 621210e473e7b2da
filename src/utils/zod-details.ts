import type { z } from 'zod';
import type { ErrorDetail } from './app-error';

/** One detail per bad field (its first problem), named by its dotted path ("address.city", "tags.2"). */
export function zodIssuesToDetails(issues: readonly z.core.$ZodIssue[], location: string): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  const seen = new Set<string>();
  for (const issue of issues) {
    // An unknown key is reported against the key itself, not its parent object.
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
    for (const key of keys) {
      const path = key === undefined ? issue.path : [...issue.path, key];
      const field = path.map(String).join('.') || location;
      if (seen.has(field)) continue;
      seen.add(field);
      details.push({ location, field, message: key === undefined ? issue.message : 'unknown field' });
    }
  }
  return details;
}
