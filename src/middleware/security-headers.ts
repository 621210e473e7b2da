import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * helmet's headers, two of them only on requests that arrived over TLS (`req.secure`: the connection, or
 * X-Forwarded-Proto from a proxy counted by TRUST_PROXY), or on every request with `always`:
 * - Content-Security-Policy's `upgrade-insecure-requests` makes a browser fetch every asset of a page over https:
 *   on plain HTTP from any host but localhost (a VM after `docker compose up`), /docs then loads none of Swagger
 *   UI's scripts and stays blank.
 * - Strict-Transport-Security must not be sent over plain HTTP (RFC 6797 §7.2), where browsers ignore it.
 */
export function securityHeaders(upgradeInsecureRequests: 'auto' | 'always'): RequestHandler {
  const overTls = headersOf(helmet());
  const overPlainHttp = headersOf(
    helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } }, strictTransportSecurity: false }),
  );
  return (req, res, next) => {
    const headers = upgradeInsecureRequests === 'always' || req.secure ? overTls : overPlainHttp;
    for (const [name, value] of headers.set) res.setHeader(name, value);
    for (const name of headers.removed) res.removeHeader(name);
    next();
  };
}

interface Headers {
  set: [string, string | number | readonly string[]][];
  removed: string[];
}

/**
 * What a helmet middleware does to a response, worked out once. Its headers depend on its options only (none of
 * ours is a function of the request, such as a CSP nonce), but it builds them again for every request through a
 * dozen middlewares: 8–12% of POST /customers' CPU (bench:api). Applying the recorded headers costs a loop of
 * `setHeader`.
 */
function headersOf(middleware: ReturnType<typeof helmet>): Headers {
  const headers: Headers = { set: [], removed: [] };
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers.set.push([name, value]);
    },
    removeHeader(name: string) {
      headers.removed.push(name);
    },
  };
  let outcome: { error?: unknown } | undefined;
  // A request helmet reads nothing from, and a response that only records: helmet's own types are Node's.
  middleware({} as Parameters<typeof middleware>[0], recorder as unknown as Parameters<typeof middleware>[1], (error?: unknown) => {
    outcome = { error };
  });
  // helmet calls `next` synchronously, without an error for valid options: anything else leaves the headers unknown.
  if (!outcome || outcome.error !== undefined) throw new Error('helmet did not set its headers synchronously', { cause: outcome?.error });
  return headers;
}
