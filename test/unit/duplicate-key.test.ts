import { describe, expect, it } from '@jest/globals';
import mongoose from 'mongoose';
import { isDuplicateKey } from '../../src/database/errors';

const serverError = (code: number, codeName: string, errmsg: string) =>
  new mongoose.mongo.MongoServerError({ ok: 0, code, codeName, errmsg });

describe('isDuplicateKey', () => {
  it.each([
    [
      'MongoDB / SecantusDB',
      serverError(11000, 'DuplicateKey', 'E11000 duplicate key error collection: crm.users index: email_1 dup key: { email: "a@b.c" }'),
    ],
    ['FerretDB, an insert', serverError(11000, 'DuplicateKey', 'E11000 duplicate key error collection: crm.system_flags')],
    [
      'FerretDB on SQLite, an update',
      serverError(
        1,
        'InternalError',
        '[msg_update.go:133 handler.(*Handler).updateDocument] [update.go:114 common.UpdateDocument] [collection.go:191 sqlite.(*collection).UpdateAll] ' +
          "[collection.go:177 sqlite.(*collection).UpdateAll.func1] constraint failed: UNIQUE constraint failed: index 'users_5e7c_email_1' (2067)",
      ),
    ],
    // PostgreSQL's unique_violation as pgx words it (FerretDB's PostgreSQL backend passes it on for updates).
    [
      'FerretDB on PostgreSQL, an update',
      serverError(1, 'InternalError', 'ERROR: duplicate key value violates unique constraint "users_5e7c_email_1" (SQLSTATE 23505)'),
    ],
  ])('recognises %s', (_engine, error) => {
    expect(isDuplicateKey(error)).toBe(true);
  });

  it.each([
    ['a write conflict', serverError(112, 'WriteConflict', 'Write conflict during plan execution')],
    ['a busy SQLite database', serverError(1, 'InternalError', 'database is locked (5) (SQLITE_BUSY)')],
    ['an error that did not come from the server', new Error('duplicate key')],
    ['a thrown non-error', 'E11000 duplicate key'],
  ])('refuses %s', (_what, error) => {
    expect(isDuplicateKey(error)).toBe(false);
  });
});
