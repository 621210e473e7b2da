import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { RateLimitCounter } from '../../src/models/rate-limit.model';
import { buildTestApp, captureLogger } from '../helpers/app';
import { testMongoUri, useTestDatabase } from '../helpers/db';
import { TcpProxy } from '../helpers/tcp-proxy';

// Two app instances on one database stand for two service instances behind one address.
const proxy = TcpProxy.forUri(testMongoUri());
beforeAll(() => proxy.start());
afterAll(() => proxy.cut());
useTestDatabase({ uri: () => `mongodb://127.0.0.1:${proxy.port}/?directConnection=true` });

const limits = (store: 'memory' | 'mongo') => ({ store, global: { windowMs: 60_000, limit: 4 }, auth: { windowMs: 60_000, limit: 2 } });

async function statuses(apps: ReturnType<typeof buildTestApp>[], path: string, times: number, method: 'get' | 'post' = 'get') {
  const seen: number[] = [];
  for (let i = 0; i < times; i += 1) {
    const app = apps[i % apps.length]!;
    seen.push((await request(app)[method](path)).status);
  }
  return seen;
}

describe('RATE_LIMIT_STORE=mongo', () => {
  // Every request comes from 127.0.0.1, so each test starts from empty counters.
  beforeEach(async () => {
    await RateLimitCounter.deleteMany({});
  });

  it('enforces one global limit across two instances', async () => {
    const apps = [buildTestApp({ rateLimit: limits('mongo') }), buildTestApp({ rateLimit: limits('mongo') })];
    expect(await statuses(apps, '/no/such/route', 6)).toEqual([404, 404, 404, 404, 429, 429]);
  });

  it('enforces the sign-in limit across two instances', async () => {
    const apps = [buildTestApp({ rateLimit: limits('mongo') }), buildTestApp({ rateLimit: limits('mongo') })];
    const seen = await statuses(apps, '/customer/signin', 4, 'post');
    expect(seen.slice(0, 2).every((s) => s === 400)).toBe(true);
    expect(seen.slice(2)).toEqual([429, 429]);
  });

  it('is what makes the difference: memory stores count each instance apart', async () => {
    const apps = [buildTestApp({ rateLimit: limits('memory') }), buildTestApp({ rateLimit: limits('memory') })];
    expect(await statuses(apps, '/no/such/route', 6)).toEqual([404, 404, 404, 404, 404, 404]);
  });

  it('fails open with a logged warning while the database is away', async () => {
    const { logger, lines } = captureLogger();
    const app = buildTestApp({ logger, rateLimit: limits('mongo') });
    await proxy.cut();
    try {
      const res = await request(app).get('/still/reachable');
      expect(res.status).toBe(404);
      expect((await request(app).get('/healthz')).status).toBe(200);
      expect(lines.some((line) => line.msg === 'rate-limit store failed: request allowed without counting')).toBe(true);
    } finally {
      await proxy.restore();
    }
  });
});
