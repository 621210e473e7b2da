import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { z } from 'zod';
import { AppError } from '../utils/app-error';
import { hasBody } from './parse-body';
import { pathPattern } from './path-pattern';

/** A read-only path that an empty-bodied POST may stand for; the GET's params schema tells which ids it takes. */
export interface CurlDataPath {
  path: string;
  params?: z.ZodType;
}

// The original README documents `GET /users` and `GET /users/:user_id` with `curl --data ''`, and curl turns
// any `--data` into a POST. So that those examples work as written, an empty-bodied POST to the declared
// read-only paths (with ids their GET accepts) is served as the GET it was meant to be. No other path or
// method is touched.
export function curlDataCompat(paths: readonly CurlDataPath[]): RequestHandler {
  const patterns = paths.map(({ path, params }) => ({ ...pathPattern(path), schema: params }));
  const standsForGet = (path: string) =>
    patterns.some(({ regexp, params, schema }) => {
      const match = regexp.exec(path);
      if (!match) return false;
      return !schema || schema.safeParse(Object.fromEntries(params.map((name, i) => [name, match[i + 1]]))).success;
    });

  return function curlDataAsGet(req: Request, _res: Response, next: NextFunction): void {
    if (req.method === 'POST' && standsForGet(req.path)) {
      if (hasBody(req)) {
        req.resume();
        throw AppError.badRequest('This POST only stands for a GET and takes no body; staff users are created with POST /user/signup');
      }
      req.method = 'GET';
    }
    next();
  };
}
