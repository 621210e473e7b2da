import type { NextFunction, Request, Response } from 'express';

/**
 * For responses that carry tokens (sign-in, sign-up, refresh): no browser, proxy or CDN may keep a copy
 * (RFC 6749 §5.1). `Pragma` for HTTP/1.0 caches.
 */
export function noStore(_req: Request, res: Response, next: NextFunction): void {
  res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
  next();
}
