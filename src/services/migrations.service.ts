import type { AnyBulkWriteOperation } from 'mongodb';
import mongoose from 'mongoose';
import { companyKey, Customer } from '../models/customer.model';
import { DuplicateMark, markSlot, type DuplicateMarkRecord } from '../models/duplicate-mark.model';
import { typedCollection } from '../database/typed-collection';
import { duplicateKeysFor } from '../utils/duplicate-keys';
import { logger } from '../utils/logger';
import { markDuplicates } from './duplicates.service';

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

type UnkeyedCustomer = {
  _id: mongoose.Types.ObjectId;
  name: string;
  email: string;
  phone?: string;
  company?: string;
  owner?: mongoose.Types.ObjectId;
};

/**
 * Customers stored before the duplicate keys existed get them (every keyed customer has an `email_key`), batch by
 * batch, and each batch is marked where it shares a key with the customers keyed so far (itself included): a pair
 * split over two batches is found by the later one. Each update matches the values it was computed from.
 */
export async function backfillDuplicateKeys(): Promise<number> {
  const projection = { name: 1, email: 1, phone: 1, company: 1, owner: 1 };
  const cursor = Customer.collection.find<UnkeyedCustomer>({ email_key: { $exists: false } }, { projection }).batchSize(BATCH);
  let updated = 0;
  let batch: UnkeyedCustomer[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const keyed = batch.map((doc) => ({ ...doc, ...duplicateKeysFor({ ...doc, companyKey: companyKey(doc.company) }) }));
    const operations: AnyBulkWriteOperation[] = keyed.map(({ _id, name, email, phone, company, owner: _owner, ...keys }) => ({
      updateOne: { filter: { _id, name, email, phone: phone ?? null, company: company ?? null }, update: { $set: keys } },
    }));
    updated += (await Customer.collection.bulkWrite(operations, { ordered: false })).modifiedCount;
    await markDuplicates(keyed);
    batch = [];
  };
  for await (const doc of cursor) {
    batch.push(doc);
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  return updated;
}

/**
 * Duplicate marks written before marks had a slot get it (GET /customers/duplicates walks the slots): by a cursor
 * and bulk updates, each setting the slot of the key it read.
 */
export async function backfillMarkSlots(): Promise<number> {
  const marks = typedCollection<DuplicateMarkRecord>(DuplicateMark);
  const cursor = marks.find<{ _id: string; key: string }>({ slot: { $exists: false } }, { projection: { key: 1 } }).batchSize(BATCH);
  let updated = 0;
  let batch: AnyBulkWriteOperation<DuplicateMarkRecord>[] = [];
  const flush = async () => {
    if (batch.length > 0) updated += (await marks.bulkWrite(batch, { ordered: false })).modifiedCount;
    batch = [];
  };
  for await (const mark of cursor) {
    batch.push({ updateOne: { filter: { _id: mark._id, key: mark.key }, update: { $set: { slot: markSlot(mark.key) } } } });
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  return updated;
}

/**
 * Indexes that newer ones replaced: the case-sensitive `company` filter's (now company_key, created_at, _id), the
 * duplicate marks' walk in key order (now by slot), and the duplicate keys' own (now with `_id`).
 */
async function dropLegacyIndex(collection: mongoose.mongo.Collection, name: string): Promise<void> {
  await collection.dropIndex(name).catch((error: unknown) => {
    // 27 = IndexNotFound: already dropped, or never there. FerretDB says so in words.
    if (error instanceof mongoose.mongo.MongoServerError && (error.code === 27 || /not found|can't find/i.test(error.message))) return;
    throw error;
  });
}

export async function runMigrations(): Promise<void> {
  const companyKeys = await backfillCompanyKeys();
  for (const name of ['company_1_created_at_1__id_1', 'phone_key_1', 'email_key_1', 'name_key_1']) {
    await dropLegacyIndex(Customer.collection, name);
  }
  if (companyKeys > 0) logger.info({ customers: companyKeys }, 'migration: company_key set on customers stored before it existed');
  const duplicateKeys = await backfillDuplicateKeys();
  if (duplicateKeys > 0) logger.info({ customers: duplicateKeys }, 'migration: duplicate keys set on customers stored before they existed');
  const slots = await backfillMarkSlots();
  for (const name of ['key_1_customer_1', 'owner_1_key_1_customer_1']) await dropLegacyIndex(DuplicateMark.collection, name);
  if (slots > 0) logger.info({ marks: slots }, 'migration: slot set on duplicate marks stored before it existed');
}
