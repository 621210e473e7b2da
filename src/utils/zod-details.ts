import type { z } from 'zod';
import type { ErrorDetail } from './app-error';

/** One detail per bad field, named by its dotted path ("address.city", "tags.2"). */
export function zodIssuesToDetails(issues: readonly z.core.$ZodIssue[], location: string): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  for (const issue of issues) {
    // An unknown key is reported against the key itself, not its parent object.
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
    for (const key of keys) {
      const path = key === undefined ? issue.path : [...issue.path, key];
      const field = path.map(String).join('.') || location;
      details.push({ location, field, message: key === undefined ? issue.message : 'unknown field' });
    }
  }
  return details;
}
