import { Writable } from 'node:stream';
import { createApp, type AppOptions } from '../../src/app';
import { createLogger } from '../../src/utils/logger';

/** A logger that keeps every line in memory, for assertions on what the service logs. */
export function captureLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      callback();
    },
  });
  const logger = createLogger(stream, 'debug');
  return { logger, lines };
}

export function buildTestApp(options: AppOptions = {}) {
  return createApp({ rateLimit: false, ...options });
}
