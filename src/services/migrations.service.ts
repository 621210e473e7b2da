import type { AnyBulkWriteOperation } from 'mongodb';
import mongoose from 'mongoose';
import { companyKey, Customer } from '../models/customer.model';
import { logger } from '../utils/logger';

// Data migrations run at start, after the indexes are ensured: each is idempotent (it only touches documents
// that still need it), so every instance may run them, at every start, in any order with the others.

const BATCH = 1000;

/**
 * Customers stored before `company_key` existed get it (the case-insensitive `company` filter reads only the
 * key). Written in the service's own lower-casing, by a cursor and bulk updates (FerretDB 1.24 has no
 * pipeline updates); each update matches the company it read, so a change made meanwhile is not overwritten.
 */
export async function backfillCompanyKeys(): Promise<number> {
  const cursor = Customer.collection
    .find<{ _id: mongoose.Types.ObjectId; company: string }>(
      { company: { $type: 'string' }, company_key: { $exists: false } },
      { projection: { company: 1 } },
    )
    .batchSize(BATCH);
  let updated = 0;
  let batch: AnyBulkWriteOperation[] = [];
  const flush = async () => {
    if (batch.length > 0) updated += (await Customer.collection.bulkWrite(batch, { ordered: false })).modifiedCount;
    batch = [];
  };
  for await (const doc of cursor) {
    const key = companyKey(doc.company);
    if (key === undefined) continue;
    batch.push({ updateOne: { filter: { _id: doc._id, company: doc.company }, update: { $set: { company_key: key } } } });
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  return updated;
}

/** The index the case-sensitive `company` filter used, replaced by (company_key, created_at, _id). */
async function dropLegacyCompanyIndex(): Promise<void> {
  await Customer.collection.dropIndex('company_1_created_at_1__id_1').catch((error: unknown) => {
    // 27 = IndexNotFound: already dropped, or never there. FerretDB says so in words.
    if (error instanceof mongoose.mongo.MongoServerError && (error.code === 27 || /not found|can't find/i.test(error.message))) return;
    throw error;
  });
}

export async function runMigrations(): Promise<void> {
  const companyKeys = await backfillCompanyKeys();
  await dropLegacyCompanyIndex();
  if (companyKeys > 0) logger.info({ customers: companyKeys }, 'migration: company_key set on customers stored before it existed');
}
