import type { ClientRateLimitInfo, Options, Store } from 'express-rate-limit';
import mongoose from 'mongoose';
import { RateLimitCounter } from '../models/rate-limit.model';
import { AppError } from '../utils/app-error';
import { isDatabaseConnected } from './connect';
import { isDuplicateKey } from './errors';

interface CounterDoc {
  _id: string;
  hits: number;
  reset_at: Date;
}

/**
 * An express-rate-limit store on the service's own MongoDB connection, so every instance behind one address
 * counts against one limit. Each increment is a single atomic findOneAndUpdate in the common case; the
 * window restarts with an upsert that only one racing instance can win.
 */
export class MongoRateLimitStore implements Store {
  private windowMs = 60_000;
  readonly localKeys = false;

  constructor(readonly prefix: string) {}

  init(options: Options): void {
    this.windowMs = options.windowMs;
  }

  private get collection(): mongoose.mongo.Collection<CounterDoc> {
    // The driver's collection: counters are internal, and the filters below are built here, not from input.
    const db = mongoose.connection.db;
    if (!db) throw AppError.databaseUnavailable();
    return db.collection<CounterDoc>(RateLimitCounter.collection.collectionName);
  }

  private id(key: string): string {
    return `${this.prefix}:${key}`;
  }

  private static info(doc: CounterDoc | null): ClientRateLimitInfo {
    if (!doc) throw new Error('rate-limit counter missing after upsert');
    return { totalHits: doc.hits, resetTime: doc.reset_at };
  }

  async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    const doc = await this.collection.findOne({ _id: this.id(key), reset_at: { $gt: new Date() } });
    return doc ? MongoRateLimitStore.info(doc) : undefined;
  }

  async increment(key: string): Promise<ClientRateLimitInfo> {
    // Fail open fast while the database is away (express-rate-limit's passOnStoreError lets the request through).
    if (!isDatabaseConnected()) throw AppError.databaseUnavailable();
    const _id = this.id(key);
    const now = new Date();
    const counted = await this.collection.findOneAndUpdate(
      { _id, reset_at: { $gt: now } },
      { $inc: { hits: 1 } },
      { returnDocument: 'after' },
    );
    if (counted) return MongoRateLimitStore.info(counted);
    try {
      const fresh = await this.collection.findOneAndUpdate(
        { _id, reset_at: { $lte: now } },
        { $set: { hits: 1, reset_at: new Date(now.getTime() + this.windowMs) } },
        { upsert: true, returnDocument: 'after' },
      );
      return MongoRateLimitStore.info(fresh);
    } catch (error) {
      // Another instance opened the new window first: count in it.
      if (!isDuplicateKey(error)) throw error;
      const counted2 = await this.collection.findOneAndUpdate({ _id }, { $inc: { hits: 1 } }, { returnDocument: 'after' });
      return MongoRateLimitStore.info(counted2);
    }
  }

  async decrement(key: string): Promise<void> {
    await this.collection.updateOne({ _id: this.id(key), hits: { $gt: 0 } }, { $inc: { hits: -1 } });
  }

  async resetKey(key: string): Promise<void> {
    await this.collection.deleteOne({ _id: this.id(key) });
  }
}
