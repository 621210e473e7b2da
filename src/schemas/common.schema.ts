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
  .meta({
    format: 'password',
    description: '8 to 72 bytes of UTF-8',
    example: 'correct horse battery',
    // JSON Schema counts characters, not bytes: at most 18 characters of any kind (4 bytes each at most), or
    // up to 72 ASCII ones, are surely within 72 bytes. Stricter than the service for a few mixed strings, never looser.
    anyOf: [{ maxLength: 18 }, { pattern: '^[\\u0000-\\u007F]*$' }],
  });

/**
 * States the regex zod checks a string format with (e-mail, ISO date and date-time) as the schema's `pattern`:
 * the format's name alone admits values zod refuses. `\d` is written `[0-9]`, what it means in ECMAScript,
 * since other regex engines (a fuzzer's, a client's) read it as any Unicode digit.
 */
export function withFormatPattern<T extends z.ZodType>(schema: T): T {
  const { pattern } = z.toJSONSchema(schema, { io: 'input' });
  if (pattern === undefined) throw new Error('withFormatPattern: the schema has no regex of its own');
  return schema.meta({ pattern: pattern.replaceAll('\\d', '[0-9]') });
}

/** What `.trim().min(1)` checks, as JSON Schema can say it: some character that trimming keeps. */
export const notBlank = '\\S';

export const email = withFormatPattern(z.string().trim().toLowerCase().max(254).email()).meta({ example: 'ram@gmail.com' });

export const name = z.string().trim().min(1).max(200).meta({ pattern: notBlank, example: 'ramlal' });

/** Query flags arrive as strings. */
const flagValues = z.enum(['true', 'false', '1', '0']);
const isOn = (v: string) => v === 'true' || v === '1';
export const booleanQuery = flagValues.transform(isOn);

/**
 * A flag that is off unless sent. The default is the query string's `false`, before the transform: a
 * `.default(false)` after it would be documented as the boolean `false`, which a string parameter cannot be.
 */
export const booleanQueryOff = flagValues.default('false').transform(isOn);

/** What a bad date is told (a union's own message would be zod's bare "Invalid input"). */
export const isoDateMessage =
  'expected an ISO 8601 / RFC 3339 date-time such as 2024-09-01T10:00:00Z or 2024-09-01T15:30:00+05:30, or a date such as 2024-09-01';

export const isoDate = z
  .union([withFormatPattern(z.iso.datetime({ offset: true })), withFormatPattern(z.iso.date())], { error: isoDateMessage })
  .transform((v) => new Date(v))
  .meta({ example: '2024-09-01T00:00:00Z' });

/** The end of a `from`/`to` period: its example comes after `from`'s, so that the two together are valid. */
export const isoDateAfter = isoDate.meta({ example: '2024-10-01T00:00:00Z' });

/**
 * PATCH bodies change something. The refine is zod's; `minProperties` says the same in openapi.yaml (a field
 * sent as `null` counts: it clears).
 */
export function someField<T extends z.ZodObject>(body: T) {
  return body.refine((b) => Object.values(b).some((v) => v !== undefined), 'send at least one field to change').meta({ minProperties: 1 });
}

export const messageResponse = z.object({ message: z.string() }).strict().meta({ id: 'Message' });

/**
 * What the request bodies that the original README showed with capitalised keys say about them. Their
 * examples use the schema's own (lower-case) names, so that they pass the schema they illustrate; the
 * original's spelling is accepted all the same (middleware/validate.ts matches keys case-insensitively).
 */
export const originalKeys = "Field names match case-insensitively, as in the original service: its README's example sends";
