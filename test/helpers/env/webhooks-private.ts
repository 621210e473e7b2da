// Imported first by a test file, before any module reads src/config/env.ts: webhook endpoints may be on
// this machine (the tests' receivers listen on 127.0.0.1), as WEBHOOK_ALLOW_PRIVATE=true allows on premises.
process.env.WEBHOOK_ALLOW_PRIVATE = 'true';
