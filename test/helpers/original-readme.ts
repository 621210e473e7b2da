import { readFileSync } from 'node:fs';
import path from 'node:path';

// The original service's README examples (SPEC §2), kept in the repository as a fixture: the requests exactly
// as its curl commands send them, and the responses it printed.

export interface CurlCommand {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** The raw body text, as `--data`/`--data-raw` send it. */
  body?: string;
}

export interface OriginalExample {
  /** The README's heading for the example. */
  title: string;
  request: CurlCommand;
  response: { body: unknown };
}

interface Fixture {
  about: string;
  notes: string[];
  examples: OriginalExample[];
}

export const originalExamplesPath = path.resolve(__dirname, '../fixtures/original-readme-examples.json');

function isCurlCommand(value: unknown): value is CurlCommand {
  if (typeof value !== 'object' || value === null) return false;
  const { method, path: url, headers, body } = value as Record<string, unknown>;
  return (
    typeof method === 'string' &&
    typeof url === 'string' &&
    typeof headers === 'object' &&
    headers !== null &&
    Object.values(headers).every((v) => typeof v === 'string') &&
    (body === undefined || typeof body === 'string')
  );
}

/** Every example of the original README, in its order; fails loudly if the fixture is not of that shape. */
export function originalExamples(): OriginalExample[] {
  const fixture = JSON.parse(readFileSync(originalExamplesPath, 'utf8')) as Partial<Fixture>;
  const examples: unknown = fixture.examples;
  if (!Array.isArray(examples)) throw new Error(`${originalExamplesPath}: no "examples" array`);
  return examples.map((example: unknown, index) => {
    const { title, request, response } = (example ?? {}) as Partial<OriginalExample>;
    if (
      typeof title !== 'string' ||
      !isCurlCommand(request) ||
      typeof response !== 'object' ||
      response === null ||
      !('body' in response)
    ) {
      throw new Error(`${originalExamplesPath}: example ${index} is not {title, request, response: {body}}`);
    }
    return { title, request, response };
  });
}

/** The structure of a JSON value: an object's keys with their values' shapes, an array's first item, else the JSON type. */
export type Shape = string | Shape[] | { [key: string]: Shape };

export function shapeOf(value: unknown): Shape {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length > 0 ? [shapeOf(value[0])] : [];
  if (typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, item]) => [key, shapeOf(item)]),
    );
  }
  return typeof value;
}

/** A shape without the named keys, at any depth. */
export function withoutKeys(shape: Shape, keys: readonly string[]): Shape {
  if (typeof shape === 'string') return shape;
  if (Array.isArray(shape)) return shape.map((item) => withoutKeys(item, keys));
  return Object.fromEntries(
    Object.entries(shape)
      .filter(([key]) => !keys.includes(key))
      .map(([key, item]) => [key, withoutKeys(item, keys)]),
  );
}

/** An object shape with keys added (or replaced). */
export function withKeys(shape: Shape, added: Record<string, Shape>): Shape {
  if (typeof shape === 'string' || Array.isArray(shape)) throw new Error('withKeys: not an object shape');
  return Object.fromEntries(Object.entries({ ...shape, ...added }).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * Where `actual` falls short of `expected`: each key of `expected` missing from `actual` or of another JSON
 * type, as "path: expected …, got …". Keys only `actual` has are additions, not differences.
 */
export function shapeShortfalls(expected: Shape, actual: Shape, at = '$'): string[] {
  if (typeof expected === 'string' || typeof actual === 'string') {
    return JSON.stringify(expected) === JSON.stringify(actual)
      ? []
      : [`${at}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
  }
  if (Array.isArray(expected) || Array.isArray(actual)) {
    if (!Array.isArray(expected) || !Array.isArray(actual))
      return [`${at}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
    const [item] = expected;
    if (item === undefined) return [];
    const [actualItem] = actual;
    return actualItem === undefined ? [`${at}[0]: missing`] : shapeShortfalls(item, actualItem, `${at}[0]`);
  }
  return Object.entries(expected).flatMap(([key, item]) => {
    const actualItem = actual[key];
    return actualItem === undefined ? [`${at}.${key}: missing`] : shapeShortfalls(item, actualItem, `${at}.${key}`);
  });
}
