import type { NextFunction, Request, Response } from 'express';
import type { z } from 'zod';
import { AppError, type ErrorDetail } from '../utils/app-error';
import { matchKeysCaseInsensitively } from '../utils/case-insensitive-keys';
import { zodIssuesToDetails } from '../utils/zod-details';

export interface RequestSchema {
  body?: z.ZodType;
  query?: z.ZodType;
  params?: z.ZodType;
}

type Parts = 'body' | 'query' | 'params';
type Output<S extends RequestSchema, P extends Parts> = S[P] extends z.ZodType ? z.output<S[P]> : undefined;

interface ParsedInput {
  body?: unknown;
  query?: unknown;
  params?: unknown;
}

/**
 * Parses body, query and params with zod and stores the results in `res.locals.input`. Express 5's
 * `req.query` is a getter, so parsed values never go back onto `req`.
 */
export function validate(schema: RequestSchema) {
  return function validateRequest(req: Request, res: Response, next: NextFunction): void {
    const parsed: ParsedInput = {};
    const details: ErrorDetail[] = [];
    for (const part of ['params', 'query', 'body'] as const) {
      const partSchema = schema[part];
      if (!partSchema) continue;
      const raw: unknown = req[part] ?? {};
      // Path parameters are named by the route itself: only the body and the query come from a client's hand.
      const result = partSchema.safeParse(part === 'params' ? raw : matchKeysCaseInsensitively(raw, partSchema));
      if (result.success) parsed[part] = result.data;
      else details.push(...zodIssuesToDetails(result.error.issues, part));
    }
    if (details.length > 0) throw AppError.validation(details);
    res.locals.input = parsed;
    next();
  };
}

// The one typed doorway from res.locals (typed `any` by Express) to parsed input; the schema argument
// carries the type.
function parsedPart<S extends RequestSchema, P extends Parts>(res: Response, _schema: S, part: P): Output<S, P> {
  const input = res.locals.input as ParsedInput | undefined;
  return input?.[part] as Output<S, P>;
}

export function parsedBody<S extends RequestSchema>(res: Response, schema: S): Output<S, 'body'> {
  return parsedPart(res, schema, 'body');
}

export function parsedQuery<S extends RequestSchema>(res: Response, schema: S): Output<S, 'query'> {
  return parsedPart(res, schema, 'query');
}

export function parsedParams<S extends RequestSchema>(res: Response, schema: S): Output<S, 'params'> {
  return parsedPart(res, schema, 'params');
}
