import { z } from 'zod';

export const objectId = z
  .string()
  .regex(/^[0-9a-fA-F]{24}$/, 'expected a 24-character hexadecimal id')
  .transform((v) => v.toLowerCase())
  .meta({ example: '66d3ccc9e71590f28320f639' });

/** bcrypt reads at most 72 bytes, so longer passwords are refused rather than silently truncated. */
export const password = z
  .string()
  .min(8)
  .max(72)
  .refine((v) => Buffer.byteLength(v, 'utf8') >= 8, 'must be at least 8 bytes')
  .refine((v) => Buffer.byteLength(v, 'utf8') <= 72, 'must be at most 72 bytes')
  .meta({ format: 'password', description: '8 to 72 bytes of UTF-8', example: 'correct horse battery' });

export const email = z.string().trim().toLowerCase().max(254).email().meta({ example: 'ram@gmail.com' });

export const name = z.string().trim().min(1).max(200).meta({ example: 'ramlal' });

/** Query flags arrive as strings. */
export const booleanQuery = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/** What a bad date is told (a union's own message would be zod's bare "Invalid input"). */
export const isoDateMessage =
  'expected an ISO 8601 / RFC 3339 date-time such as 2024-09-01T10:00:00Z or 2024-09-01T15:30:00+05:30, or a date such as 2024-09-01';

export const isoDate = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()], { error: isoDateMessage })
  .transform((v) => new Date(v))
  .meta({ example: '2024-09-01T00:00:00Z' });

export const messageResponse = z.object({ message: z.string() }).strict().meta({ id: 'Message' });
