import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * helmet's headers. Its default Content-Security-Policy includes `upgrade-insecure-requests`, which makes a
 * browser fetch every asset of a page over https: on plain HTTP from any host but localhost (a VM after
 * `docker compose up`), /docs then loads none of Swagger UI's scripts and stays blank. So the directive is sent
 * only on requests that arrived over TLS (`req.secure`: the connection, or X-Forwarded-Proto from a proxy
 * counted by TRUST_PROXY), or on every request with `always`.
 */
export function securityHeaders(upgradeInsecureRequests: 'auto' | 'always'): RequestHandler {
  const overTls = helmet();
  const overPlainHttp = helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } });
  return (req, res, next) => (upgradeInsecureRequests === 'always' || req.secure ? overTls : overPlainHttp)(req, res, next);
}
