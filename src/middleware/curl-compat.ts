import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../utils/app-error';
import { hasBody } from './parse-body';

// The original README documents `GET /users` and `GET /users/:user_id` with `curl --data ''`, and curl turns
// any `--data` into a POST. So that those examples work as written, an empty-bodied POST to these two
// read-only paths is served as the GET it was meant to be. No other path or method is touched.
const readOnlyPaths = [/^\/users\/?$/, /^\/users\/[0-9a-fA-F]{24}\/?$/];

export function curlDataCompat(req: Request, _res: Response, next: NextFunction): void {
  if (req.method === 'POST' && readOnlyPaths.some((path) => path.test(req.path))) {
    if (hasBody(req)) {
      req.resume();
      throw AppError.badRequest('This POST only stands for a GET and takes no body; staff users are created with POST /user/signup');
    }
    req.method = 'GET';
  }
  next();
}
