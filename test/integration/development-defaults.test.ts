import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Express } from 'express';
import request from 'supertest';
import { rateLimitDefaults } from '../../src/config/env';
import { buildTestApp, captureLogger } from '../helpers/app';
import { bootstrapAdmin, type Actor } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';

// What a front-end developer meets in the first hour outside production (tests run with NODE_ENV=test, which is
// "not production"): CORS for a dev server on localhost, a /docs page that loads over plain HTTP, and rate
// limits nobody hits by hand.

useTestDatabase();

function preflight(app: Express, origin: string, path = '/customers') {
  return request(app)
    .options(path)
    .set('Origin', origin)
    .set('Access-Control-Request-Method', 'POST')
    .set('Access-Control-Request-Headers', 'content-type,token');
}

const corsWarnings = (lines: Record<string, unknown>[]) => lines.filter((line) => String(line.msg).startsWith('CORS: refused origin'));

describe('CORS outside production', () => {
  it.each(['http://localhost:3000', 'http://127.0.0.1:5173', 'http://localhost', 'http://[::1]:8081'])(
    'answers a preflight from %s with its origin allowed, by default',
    async (origin) => {
      const res = await preflight(buildTestApp(), origin);
      expect(res.status).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe(origin);
      expect(res.headers['access-control-allow-methods']).toContain('POST');
      expect(res.headers['access-control-allow-headers']).toBe('content-type,token');
      expect(res.headers.vary).toContain('Origin');
    },
  );

  it('lets the actual cross-origin request read its body and the paging headers', async () => {
    const res = await request(buildTestApp()).get('/healthz').set('Origin', 'http://localhost:3000');
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('http://localhost:3000');
    expect(res.headers['access-control-expose-headers']).toContain('X-Total-Count');
  });

  it('answers a request without Origin (not a CORS request) with Vary: Origin and no CORS headers', async () => {
    for (const app of [buildTestApp(), buildTestApp({ corsOrigins: ['*'] })]) {
      const res = await request(app).get('/healthz');
      expect(res.status).toBe(200);
      expect(res.headers.vary).toBe('Origin');
      expect(Object.keys(res.headers).filter((name) => name.startsWith('access-control-'))).toEqual([]);
      const withOrigin = await request(app).get('/healthz').set('Origin', 'http://localhost:3000');
      expect(withOrigin.headers.vary).toBe('Origin');
      expect(withOrigin.headers['access-control-expose-headers']).toContain('RateLimit-Remaining');
    }
  });

  it.each(['https://localhost:3000', 'http://localhost.evil.example:3000', 'http://127.0.0.1.evil.example', 'http://app.example.com'])(
    'does not allow %s, which only looks local',
    async (origin) => {
      const res = await preflight(buildTestApp(), origin);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    },
  );

  it('allows configured origins besides localhost', async () => {
    const app = buildTestApp({ corsOrigins: ['https://app.example.com'] });
    expect((await preflight(app, 'https://app.example.com')).headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect((await preflight(app, 'http://localhost:3000')).headers['access-control-allow-origin']).toBe('http://localhost:3000');
  });
});

describe('CORS refusals are logged once per origin, in every mode', () => {
  it('names CORS_ORIGINS in a warning the first time an origin is refused (localhost off, as in production)', async () => {
    const { logger, lines } = captureLogger();
    const app = buildTestApp({ logger, corsAllowLocalhost: false, corsOrigins: ['https://app.example.com'] });
    const refused = await preflight(app, 'http://localhost:3000');
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    expect(corsWarnings(lines)).toEqual([
      expect.objectContaining({
        level: 40,
        origin: 'http://localhost:3000',
        msg: expect.stringContaining('add it to CORS_ORIGINS (comma-separated), e.g. CORS_ORIGINS=http://localhost:3000'),
      }),
    ]);
    // The same origin again, preflight or not: no second line. Another origin: its own line.
    await preflight(app, 'http://localhost:3000');
    await request(app).get('/healthz').set('Origin', 'http://localhost:3000');
    expect(corsWarnings(lines)).toHaveLength(1);
    await preflight(app, 'https://other.example.com');
    expect(corsWarnings(lines).map((line) => line.origin)).toEqual(['http://localhost:3000', 'https://other.example.com']);
  });

  it('logs nothing for allowed origins, requests without Origin, or the page’s own origin (Swagger UI on /docs)', async () => {
    const { logger, lines } = captureLogger();
    const app = buildTestApp({ logger, corsAllowLocalhost: false, corsOrigins: ['https://app.example.com'] });
    await preflight(app, 'https://app.example.com');
    await request(app).get('/healthz');
    const sameOrigin = await request(app).get('/healthz').set('Host', 'crm.internal:8080').set('Origin', 'http://crm.internal:8080');
    expect(sameOrigin.status).toBe(200);
    expect(corsWarnings(lines)).toEqual([]);
  });

  it('keeps a bounded memory of refused origins (a scanner cannot grow it without limit)', async () => {
    const { logger, lines } = captureLogger();
    const app = buildTestApp({ logger, corsAllowLocalhost: false });
    for (let i = 0; i < 510; i += 1) await request(app).get('/healthz').set('Origin', `https://scan-${i}.example`);
    expect(corsWarnings(lines)).toHaveLength(500);
    expect(lines.filter((line) => String(line.msg).includes('further refused origins are not logged'))).toHaveLength(1);
  });
});

describe('Content-Security-Policy on /docs', () => {
  const csp = (res: request.Response) => String(res.headers['content-security-policy']);

  it('sends no upgrade-insecure-requests over plain HTTP, so Swagger UI loads its assets from any host', async () => {
    const app = buildTestApp();
    const page = await request(app).get('/docs/').set('Host', '192.0.2.10:8080');
    expect(page.status).toBe(200);
    expect(csp(page)).toContain("default-src 'self'");
    expect(csp(page)).not.toContain('upgrade-insecure-requests');
    // The page's scripts are relative to it (same scheme), and they are served.
    const scripts = [...page.text.matchAll(/<script src="([^"]+)"/g)].map((match) => match[1] ?? '');
    expect(scripts).toEqual(expect.arrayContaining(['./swagger-ui-bundle.js', './swagger-ui-init.js']));
    for (const script of scripts) expect((await request(app).get(`/docs/${script.replace('./', '')}`)).status).toBe(200);
  });

  it('sends it when the request arrived over TLS at a proxy counted by TRUST_PROXY', async () => {
    const res = await request(buildTestApp({ trustProxy: 1 }))
      .get('/docs/')
      .set('X-Forwarded-Proto', 'https');
    expect(csp(res)).toContain('upgrade-insecure-requests');
  });

  it('ignores X-Forwarded-Proto when no proxy is trusted (a client cannot claim TLS)', async () => {
    const res = await request(buildTestApp({ trustProxy: 0 }))
      .get('/docs/')
      .set('X-Forwarded-Proto', 'https');
    expect(csp(res)).not.toContain('upgrade-insecure-requests');
  });

  it('sends it on every request with CSP_UPGRADE_INSECURE_REQUESTS=always', async () => {
    const res = await request(buildTestApp({ cspUpgradeInsecureRequests: 'always' })).get('/healthz');
    expect(csp(res)).toContain('upgrade-insecure-requests');
  });
});

describe('Strict-Transport-Security', () => {
  const hsts = (res: request.Response) => res.headers['strict-transport-security'];

  it('is not sent over plain HTTP (RFC 6797 §7.2), even when a client claims TLS to an untrusted hop', async () => {
    expect(hsts(await request(buildTestApp()).get('/healthz'))).toBeUndefined();
    expect(
      hsts(
        await request(buildTestApp({ trustProxy: 0 }))
          .get('/healthz')
          .set('X-Forwarded-Proto', 'https'),
      ),
    ).toBeUndefined();
  });

  it('is sent when the request arrived over TLS at a proxy counted by TRUST_PROXY, and everywhere with always', async () => {
    const viaProxy = await request(buildTestApp({ trustProxy: 1 }))
      .get('/healthz')
      .set('X-Forwarded-Proto', 'https');
    expect(hsts(viaProxy)).toBe('max-age=31536000; includeSubDomains');
    expect(hsts(await request(buildTestApp({ cspUpgradeInsecureRequests: 'always' })).get('/healthz'))).toBe(
      'max-age=31536000; includeSubDomains',
    );
  });
});

describe('rate limits outside production', () => {
  let admin: Actor;
  beforeAll(async () => {
    admin = await bootstrapAdmin(buildTestApp());
  });

  it('default to limits nobody reaches by hand: 25 exports and 40 sign-ins in a row all answer', async () => {
    // Limits on, with the configured (here: development) values.
    const app = buildTestApp({ rateLimit: { store: 'memory' } });
    const exports: number[] = [];
    for (let i = 0; i < 25; i += 1) exports.push((await request(app).get('/export/customer_data?q=zzz').set(admin.headers)).status);
    expect(exports.every((status) => status === 200)).toBe(true);
    const last = await request(app).get('/export/customer_data?q=zzz').set(admin.headers);
    expect(last.headers['ratelimit-limit']).toBe(String(rateLimitDefaults.development.data));
    const signins: number[] = [];
    for (let i = 0; i < 40; i += 1) {
      // Failed attempts (unknown account) count as in production, and are still far from the limit.
      signins.push(
        (
          await request(app)
            .post('/user/signin')
            .send({ email: `nobody-${i}@example.com`, password: 'wrong password' })
        ).status,
      );
    }
    expect(signins.every((status) => status === 401)).toBe(true);
  });
});
