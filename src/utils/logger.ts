import pino, { type Logger } from 'pino';
import { config } from '../config/env';

// Paths are relative to each log object. Headers and bodies that could carry credentials are censored
// wherever pino-http or our own code might log them.
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.token',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.token',
  '*.refresh_token',
  '*.refreshToken',
  '*.access_token',
  'password',
  'token',
  'refresh_token',
];

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
