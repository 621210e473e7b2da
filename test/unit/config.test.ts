import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../../src/config/env';

const strongSecret = 'x'.repeat(32);
const key = Buffer.alloc(32, 1).toString('base64');

describe('loadConfig', () => {
  it('has development defaults that need no .env', () => {
    const config = loadConfig({});
    expect(config.env).toBe('development');
    expect(config.http.port).toBe(8080);
    expect(config.auth.bcryptCost).toBe(12);
    expect(config.auth.jwtSecret.length).toBeGreaterThanOrEqual(32);
    expect(config.warnings).toEqual([expect.stringContaining('JWT_SECRET')]);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.http)).toBe(true);
  });

  it('coerces numbers, lists and sizes', () => {
    const config = loadConfig({ PORT: '3000', CORS_ORIGINS: 'https://a.example, https://b.example', BODY_LIMIT: '2mb' });
    expect(config.http.port).toBe(3000);
    expect(config.http.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(config.http.bodyLimit).toBe(2 * 1024 * 1024);
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['BCRYPT_COST', '99'],
    ['MONGODB_URI', 'http://localhost'],
    ['LOG_LEVEL', 'loud'],
    ['BODY_LIMIT', 'lots'],
    ['DATA_ENCRYPTION_KEY', 'c2hvcnQ='],
    ['DATA_ENCRYPTION_OLD_KEYS', 'k0'],
    ['RATE_LIMIT_ENABLED', 'maybe'],
  ])('rejects a bad %s (%s) naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}: `));
  });

  it('refuses production without a strong JWT_SECRET', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', DATA_ENCRYPTION_KEY: key })).toThrow(/JWT_SECRET/);
    expect(() => loadConfig({ NODE_ENV: 'production', DATA_ENCRYPTION_KEY: key, JWT_SECRET: 'short' })).toThrow(
      /JWT_SECRET: production needs a secret of at least 32 characters/,
    );
  });

  it('refuses production without DATA_ENCRYPTION_KEY', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: strongSecret })).toThrow(/DATA_ENCRYPTION_KEY/);
  });

  it('accepts a complete production configuration without warnings', () => {
    const config = loadConfig({ NODE_ENV: 'production', JWT_SECRET: strongSecret, DATA_ENCRYPTION_KEY: key });
    expect(config.isProduction).toBe(true);
    expect(config.auth.jwtSecret).toBe(strongSecret);
    expect(config.warnings).toEqual([]);
  });

  it('parses old encryption keys for rotation', () => {
    const config = loadConfig({ DATA_ENCRYPTION_OLD_KEYS: `k0:${key}, k-1:${key}` });
    expect(Object.keys(config.encryption.oldKeys)).toEqual(['k0', 'k-1']);
  });

  it('defaults to rate limits a developer does not reach outside production, and keeps the strict ones in it', () => {
    const development = loadConfig({}).rateLimit;
    expect([development.max, development.authMax, development.dataMax]).toEqual([10_000, 1000, 1000]);
    const production = loadConfig({ NODE_ENV: 'production', JWT_SECRET: strongSecret, DATA_ENCRYPTION_KEY: key }).rateLimit;
    expect([
      production.max,
      production.windowMs,
      production.authMax,
      production.authWindowMs,
      production.dataMax,
      production.dataWindowMs,
    ]).toEqual([300, 60_000, 30, 900_000, 20, 60_000]);
    // An explicit value wins in either mode.
    expect(loadConfig({ DATA_RATE_LIMIT_MAX: '20', AUTH_RATE_LIMIT_MAX: '30', RATE_LIMIT_MAX: '300' }).rateLimit).toMatchObject({
      max: 300,
      authMax: 30,
      dataMax: 20,
    });
  });

  it('allows localhost origins by default outside production only, and never upgrades plain HTTP unless told', () => {
    expect(loadConfig({}).http.corsAllowLocalhost).toBe(true);
    expect(loadConfig({ NODE_ENV: 'test' }).http.corsAllowLocalhost).toBe(true);
    expect(loadConfig({ CORS_ALLOW_LOCALHOST: 'false' }).http.corsAllowLocalhost).toBe(false);
    const production = { NODE_ENV: 'production', JWT_SECRET: strongSecret, DATA_ENCRYPTION_KEY: key };
    expect(loadConfig(production).http.corsAllowLocalhost).toBe(false);
    expect(loadConfig({ ...production, CORS_ALLOW_LOCALHOST: 'true' }).http.corsAllowLocalhost).toBe(true);
    expect(loadConfig({}).http.cspUpgradeInsecureRequests).toBe('auto');
    expect(loadConfig({ CSP_UPGRADE_INSECURE_REQUESTS: 'always' }).http.cspUpgradeInsecureRequests).toBe('always');
    expect(() => loadConfig({ CSP_UPGRADE_INSECURE_REQUESTS: 'yes' })).toThrow(/CSP_UPGRADE_INSECURE_REQUESTS: /);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '' }).http.port).toBe(8080);
  });
});
