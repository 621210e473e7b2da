import pino, { type Logger } from 'pino';
import { config } from '../config/env';

/**
 * Request headers that carry credentials: censored in every line that logs a request's headers. The API's own
 * four, and `proxy-authorization`, which a client behind an authenticating proxy may send on.
 */
export const credentialHeaders = ['authorization', 'token', 'x-api-key', 'cookie', 'proxy-authorization'] as const;
export const REDACTED = '[redacted]';

// Paths are relative to each log object. Headers and bodies that could carry credentials are censored
// wherever our own code might log them (the access log censors its request headers itself, see
// middleware/request-logger.ts).
export const redactPaths = [
  ...credentialHeaders.map((name) => `req.headers[${JSON.stringify(name)}]`),
  'res.headers["set-cookie"]',
  '*.password',
  '*.token',
  '*.refresh_token',
  '*.refreshToken',
  '*.access_token',
  '*.api_key',
  'password',
  'token',
  'refresh_token',
];

// Query-string parameters whose value is a credential (a token sent as ?token= is refused, but it arrived).
const secretQueryKeys = new Set(['token', 'access_token', 'refresh_token', 'api_key', 'apikey', 'password', 'current_password', 'secret']);

function queryKeyName(rawKey: string): string {
  try {
    return decodeURIComponent(rawKey.replace(/\+/g, ' ')).trim().toLowerCase();
  } catch {
    return rawKey.toLowerCase();
  }
}

/** The URL as received, with the value of every credential-bearing query parameter censored. */
export function redactUrl(url: string): string {
  const start = url.indexOf('?');
  if (start < 0) return url;
  const query = url
    .slice(start + 1)
    .split('&')
    .map((pair) => {
      const key = pair.split('=', 1)[0] ?? '';
      return secretQueryKeys.has(queryKeyName(key)) ? `${key}=${REDACTED}` : pair;
    });
  return `${url.slice(0, start)}?${query.join('&')}`;
}

export function createLogger(destination?: pino.DestinationStream, level: string = config.log.level): Logger {
  return pino(
    {
      level,
      redact: { paths: redactPaths, censor: REDACTED },
      // pid tells apart the workers of a cluster (WEB_CONCURRENCY) writing to one stream.
      base: { service: 'crm-api', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

export const logger = createLogger();
