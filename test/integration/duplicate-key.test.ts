import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import mongoose from 'mongoose';
import request from 'supertest';
import { RateLimitCounter } from '../../src/models/rate-limit.model';
import { SystemFlag } from '../../src/models/system-flag.model';
import { User } from '../../src/models/user.model';
import { isDuplicateKey } from '../../src/database/errors';
import { buildTestApp, captureLogger } from '../helpers/app';
import { PASSWORD, uniqueEmail } from '../helpers/auth';
import { clearCollections, useTestDatabase } from '../helpers/db';

// FerretDB 1.24 on SQLite answers most unique-key collisions with code 11000, but a collision inside an
// update (an upsert or findAndModify that lands on an existing key) comes back as a generic InternalError
// carrying SQLite's message. This is the reply FerretDB 1.24.2 gave to such a findAndModify, as it came off
// the wire. Every place that treats "someone else got there first" as a normal outcome must recognise it,
// as the error handler does; the places below once checked for code 11000 only.
const ferretDbUniqueViolation = () =>
  new mongoose.mongo.MongoServerError({
    ok: 0,
    code: 1,
    codeName: 'InternalError',
    errmsg:
      '[msg_findandmodify.go:196 handler.(*Handler).findAndModifyDocument] [update.go:114 common.UpdateDocument] ' +
      '[collection.go:191 sqlite.(*collection).UpdateAll] [collection.go:177 sqlite.(*collection).UpdateAll.func1] ' +
      "constraint failed: UNIQUE constraint failed: index 'system_flags_9a1c_id_' (2067)",
  });

useTestDatabase();

beforeEach(clearCollections);
afterEach(() => {
  jest.restoreAllMocks();
});

describe('POST /user/signup when the first-account claim loses in FerretDB’s words', () => {
  it('answers 401 like any lost race, creating no account', async () => {
    const app = buildTestApp();
    // Another first sign-up has claimed the bootstrap flag and not yet written its user.
    await SystemFlag.create({ _id: 'first-staff-account' });
    jest.spyOn(SystemFlag, 'create').mockRejectedValueOnce(ferretDbUniqueViolation());

    const res = await request(app)
      .post('/user/signup')
      .send({ name: 'Second', email: uniqueEmail('second'), password: PASSWORD });

    expect(res.status).toBe(401);
    expect(res.body.code).toBe('UNAUTHORIZED');
    expect(await User.countDocuments({})).toBe(0);
  });
});

describe('RATE_LIMIT_STORE=mongo when another instance opens the window first, in FerretDB’s words', () => {
  it('counts the request in that window instead of letting it through uncounted', async () => {
    const { logger, lines } = captureLogger();
    const app = buildTestApp({
      logger,
      rateLimit: { store: 'mongo', global: { windowMs: 60_000, limit: 5 }, auth: { windowMs: 60_000, limit: 5 } },
    });
    const findOneAndUpdate: unknown = Reflect.get(mongoose.mongo.Collection.prototype, 'findOneAndUpdate');
    if (typeof findOneAndUpdate !== 'function') throw new Error('driver without findOneAndUpdate');
    jest.spyOn(mongoose.mongo.Collection.prototype, 'findOneAndUpdate').mockImplementation(async function (
      this: mongoose.mongo.Collection,
      ...args: unknown[]
    ) {
      const [filter, , options] = args as [{ _id?: unknown }, unknown, { upsert?: boolean } | undefined];
      if (this.collectionName === RateLimitCounter.collection.collectionName && options?.upsert && typeof filter._id === 'string') {
        // The other instance's upsert wins the race; this one's collides with it.
        await RateLimitCounter.create({ _id: filter._id, hits: 1, reset_at: new Date(Date.now() + 60_000) });
        throw ferretDbUniqueViolation();
      }
      return Reflect.apply(findOneAndUpdate, this, args);
    });

    const res = await request(app).get('/no/such/route');

    expect(res.status).toBe(404);
    expect(res.headers['ratelimit-remaining']).toBe('3');
    const counters = await RateLimitCounter.find({}).lean();
    expect(counters.map((c) => c.hits)).toEqual([2]);
    expect(lines.some((line) => line.msg === 'rate-limit store failed: request allowed without counting')).toBe(false);
  });
});

describe('isDuplicateKey on this engine', () => {
  it('recognises a unique-index collision from an insert and from an update', async () => {
    const db = mongoose.connection.db;
    if (!db) throw new Error('not connected');
    const scratch = db.collection<{ _id: string; key: string }>('duplicate_key_probe');
    await scratch.createIndex({ key: 1 }, { unique: true });
    await scratch.insertMany([
      { _id: 'a', key: 'a' },
      { _id: 'b', key: 'b' },
    ]);
    const fromInsert = await scratch.insertOne({ _id: 'c', key: 'a' }).catch((error: unknown) => error);
    const fromUpdate = await scratch.updateOne({ _id: 'b' }, { $set: { key: 'a' } }).catch((error: unknown) => error);
    const fromFindAndModify = await scratch.findOneAndUpdate({ _id: 'b' }, { $set: { key: 'a' } }).catch((error: unknown) => error);
    expect([fromInsert, fromUpdate, fromFindAndModify].map(isDuplicateKey)).toEqual([true, true, true]);
    await scratch.drop();
  });
});
