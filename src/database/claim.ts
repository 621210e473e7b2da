import mongoose from 'mongoose';
import { isDuplicateKey } from './errors';

// A claim that one process holds at a time across every instance sharing the database: a document with a
// fixed `_id`, taken by inserting it (a unique insert succeeds once, on MongoDB and FerretDB alike), kept
// fresh by a heartbeat while the work runs, and deleted after. A holder that crashed stops refreshing it; once
// its claim is older than `staleMs` the next contender deletes it and takes over.

/** The claim document as stored: `_id` names the claim, `token` its holder. */
export interface ClaimDocument {
  _id: string;
  token: string;
  claimed_at: Date;
}

export interface ClaimOptions {
  /** The collection holding the claim document (other documents may share it). */
  collection: mongoose.mongo.Collection<ClaimDocument>;
  /** The claim document's `_id`: one holder per id. */
  id: string;
  /** How long to wait for the claim before throwing `onTimeout()`. */
  maxWaitMs: number;
  /** A claim not refreshed for this long is taken to be from a crashed holder, and taken over. */
  staleMs: number;
  /** How often the holder refreshes its claim (well below `staleMs`). */
  heartbeatMs: number;
  /** The error thrown when `maxWaitMs` passes without the claim. */
  onTimeout: () => Error;
}

/** Retries of a taken claim: 25 ms, doubling, at most 500 ms apart. */
const FIRST_RETRY_MS = 25;
const MAX_RETRY_MS = 500;

/** Inserts the claim document, taking over a stale one; returns the holder's token. */
async function takeClaim(options: ClaimOptions): Promise<string> {
  const { collection, id } = options;
  const token = new mongoose.Types.ObjectId().toHexString();
  const deadline = Date.now() + options.maxWaitMs;
  for (let attempt = 0; ; attempt += 1) {
    try {
      await collection.insertOne({ _id: id, token, claimed_at: new Date() });
      return token;
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
    const held = await collection.findOne({ _id: id });
    const claimedAt = held?.claimed_at instanceof Date ? held.claimed_at.getTime() : 0;
    if (held && Date.now() - claimedAt > options.staleMs) {
      await collection.deleteOne({ _id: id, token: held.token });
      continue;
    }
    if (Date.now() > deadline) throw options.onTimeout();
    await new Promise((resolve) => setTimeout(resolve, Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** attempt)));
  }
}

/** Runs `work` holding the claim `options.id`, waiting at most `options.maxWaitMs` for it. */
export async function withClaim<T>(options: ClaimOptions, work: () => Promise<T>): Promise<T> {
  const { collection, id } = options;
  const token = await takeClaim(options);
  const heartbeat = setInterval(() => {
    collection.updateOne({ _id: id, token }, { $set: { claimed_at: new Date() } }).catch(() => undefined);
  }, options.heartbeatMs);
  try {
    return await work();
  } finally {
    clearInterval(heartbeat);
    await collection.deleteOne({ _id: id, token });
  }
}
