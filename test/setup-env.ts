// Runs in every test worker before any module is loaded, so src/config/env.ts sees the test settings.
process.env.NODE_ENV = 'test';
process.env.LOG_LEVEL ??= 'silent';
process.env.BCRYPT_COST ??= '4';
process.env.JWT_SECRET ??= 'test-secret-that-is-long-enough-for-hs256-0123456789';
process.env.DATA_ENCRYPTION_KEY ??= Buffer.alloc(32, 7).toString('base64');
// A retired key, so tests can prove values written before a rotation still read.
process.env.DATA_ENCRYPTION_OLD_KEYS ??= `k0:${Buffer.alloc(32, 3).toString('base64')}`;
process.env.RATE_LIMIT_ENABLED ??= 'false';
// Few attempts, so the outbox tests see a message end as failed quickly.
process.env.OUTBOX_MAX_ATTEMPTS ??= '3';
