import pino, { type Logger } from 'pino';
import { config } from '../config/env';

// Paths are relative to each log object. Headers and bodies that could carry credentials are censored
// wherever the access log (middleware/request-logger.ts) or our own code might log them.
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.token',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
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
      return secretQueryKeys.has(queryKeyName(key)) ? `${key}=[redacted]` : pair;
    });
  return `${url.slice(0, start)}?${query.join('&')}`;
}

export function createLogger(destination?: pino.DestinationStream, level: string = config.log.level): Logger {
  return pino(
    {
      level,
      redact: { paths: redactPaths, censor: '[redacted]' },
      // pid tells apart the workers of a cluster (WEB_CONCURRENCY) writing to one stream.
      base: { service: 'crm-api', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

export const logger = createLogger();
