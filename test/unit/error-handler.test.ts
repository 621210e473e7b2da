import { describe, expect, it } from '@jest/globals';
import mongoose from 'mongoose';
import { z } from 'zod';
import { toAppError } from '../../src/middleware/error-handler';
import { AppError } from '../../src/utils/app-error';

function httpError(status: number, type: string, message = 'boom') {
  return Object.assign(new Error(message), { status, type, expose: true });
}

describe('toAppError', () => {
  it('keeps an AppError as it is', () => {
    const error = AppError.conflict('taken');
    expect(toAppError(error)).toBe(error);
  });

  it('maps a ZodError to 400 with one detail per field', () => {
    const result = z.object({ a: z.string(), b: z.number() }).safeParse({ a: 1, b: 'x' });
    const mapped = toAppError(result.error);
    expect(mapped.status).toBe(400);
    expect(mapped.details?.map((d) => d.field)).toEqual(['a', 'b']);
  });

  it('maps a Mongoose CastError to 400', () => {
    const error = new mongoose.Error.CastError('ObjectId', 'nope', '_id');
    expect(toAppError(error)).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
  });

  it('maps a Mongoose ValidationError to 400 with details', async () => {
    const doc = new (mongoose.model('EhDoc', new mongoose.Schema({ n: { type: Number, required: true } })))();
    const error: unknown = await doc.validate().catch((e: unknown) => e);
    expect(toAppError(error)).toMatchObject({ status: 400, code: 'VALIDATION_ERROR', details: [expect.objectContaining({ field: 'n' })] });
  });

  it('maps a duplicate key error to 409', () => {
    const error = new mongoose.mongo.MongoServerError({ code: 11000, errmsg: 'E11000', keyValue: { email: 'a@b.c' } });
    expect(toAppError(error)).toMatchObject({
      status: 409,
      code: 'DUPLICATE',
      details: [{ field: 'email', message: 'email is already in use' }],
    });
  });

  it.each([
    [413, 'entity.too.large', 'PAYLOAD_TOO_LARGE'],
    [415, 'charset.unsupported', 'UNSUPPORTED_MEDIA_TYPE'],
    [400, 'entity.parse.failed', 'BAD_REQUEST'],
  ])('maps a body-parser %i (%s) to %s', (status, type, code) => {
    expect(toAppError(httpError(status, type))).toMatchObject({ status, code });
  });

  it('maps a body that does not decompress (zlib error, status 400 from body-parser) to 400', () => {
    const gzip = Object.assign(new Error('incorrect header check'), { status: 400, expose: true, code: 'Z_DATA_ERROR', errno: -3 });
    const brotli = Object.assign(new Error('Decompression failed'), {
      status: 400,
      expose: true,
      code: 'ERR__ERROR_FORMAT_PADDING_2',
      errno: -15,
    });
    for (const error of [gzip, brotli])
      expect(toAppError(error)).toMatchObject({ status: 400, code: 'BAD_REQUEST', message: expect.stringMatching(/decompress/) });
  });

  it("maps the router's undecodable path parameter (URIError, status 400) to 400", () => {
    const error = Object.assign(new URIError("Failed to decode param '%E0%A4%A'"), { status: 400 });
    expect(toAppError(error)).toMatchObject({ status: 400, code: 'BAD_REQUEST', message: 'Malformed percent-encoding in the URL path' });
  });

  it('maps an unreachable database to 503', () => {
    const error = new mongoose.mongo.MongoServerSelectionError('no server', {} as never);
    expect(toAppError(error)).toMatchObject({ status: 503, code: 'DATABASE_UNAVAILABLE' });
    const before = new mongoose.Error('Cannot call `x.find()` before initial connection is complete if `bufferCommands = false`.');
    expect(toAppError(before)).toMatchObject({ status: 503 });
  });

  it('maps a socket error of the database connection (EPIPE after the server went away) to 503', () => {
    const error = Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE' });
    expect(toAppError(error)).toMatchObject({ status: 503, code: 'DATABASE_UNAVAILABLE' });
  });

  it('maps a transaction still meeting write conflicts after its retries (a transient label) to 503', () => {
    const error = new mongoose.mongo.MongoServerError({ code: 112, errmsg: 'WriteConflict', errorLabels: ['TransientTransactionError'] });
    expect(toAppError(error)).toMatchObject({ status: 503, code: 'DATABASE_UNAVAILABLE' });
    const unlabelled = new mongoose.mongo.MongoServerError({ code: 112, errmsg: 'WriteConflict' });
    expect(toAppError(unlabelled)).toMatchObject({ status: 500 });
  });

  it('maps anything else to a generic 500', () => {
    expect(toAppError(new TypeError('x is undefined'))).toMatchObject({
      status: 500,
      code: 'INTERNAL_ERROR',
      message: 'Internal server error',
    });
    expect(toAppError('a string')).toMatchObject({ status: 500 });
    expect(toAppError(httpError(502, 'upstream'))).toMatchObject({ status: 500 });
  });
});

describe('toAppError with FerretDB errors', () => {
  it('maps a SQLite unique-constraint failure during an update to 409', () => {
    const error = new mongoose.mongo.MongoServerError({
      code: 1,
      errmsg: "constraint failed: UNIQUE constraint failed: index 'users_5e7c_email_1' (2067)",
    });
    expect(toAppError(error)).toMatchObject({ status: 409, code: 'DUPLICATE' });
  });

  it('maps SQLite write contention (database is locked) to 503 with Retry-After', () => {
    const error = new mongoose.mongo.MongoServerError({
      code: 1,
      errmsg: '[msg_insert.go:168 handler.(*Handler).MsgInsert] database is locked (5) (SQLITE_BUSY)',
    });
    expect(toAppError(error)).toMatchObject({ status: 503, code: 'DATABASE_UNAVAILABLE', headers: { 'Retry-After': expect.any(String) } });
  });

  it('maps a server that is shutting down or has no primary to 503, and other server errors to 500', () => {
    for (const code of [91, 10107, 11600]) {
      expect(toAppError(new mongoose.mongo.MongoServerError({ code, errmsg: 'not now' }))).toMatchObject({
        status: 503,
        code: 'DATABASE_UNAVAILABLE',
      });
    }
    expect(toAppError(new mongoose.mongo.MongoServerError({ code: 2, errmsg: 'bad value' }))).toMatchObject({ status: 500 });
  });
});
