// Imported first by a test file, before any module reads src/config/env.ts: an import reads every stored
// e-mail once before its first lookup, and writes in batches of 50.
process.env.IMPORT_LOOKUP_BUDGET_MS = '0';
process.env.IMPORT_BATCH_SIZE = '50';
