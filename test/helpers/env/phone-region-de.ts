// Imported first by a test file, before any module reads src/config/env.ts: national phone numbers are German.
process.env.DEFAULT_PHONE_REGION = 'DE';
