import mongoose, { type Types } from 'mongoose';
import { config } from '../../config/env';
import { Customer } from '../../models/customer.model';
import { User } from '../../models/user.model';
import { CompactStringSet } from '../../utils/compact-string-set';
import type { Candidate } from './candidate';

// What writing a batch needs to know from the database first: which e-mails are stored, which owners exist.

const ObjectId = mongoose.Types.ObjectId;

/** A stored customer as the driver reads it (no password hash); the fields planning and the counters use typed. */
export type StoredCustomerDoc = Record<string, unknown> & {
  _id: Types.ObjectId;
  name: string;
  email: string;
  company?: string;
  status: string;
  owner?: Types.ObjectId;
  created_at: Date;
  updated_at?: Date;
};

/**
 * Finds the stored customers of a batch's e-mails. Into an empty collection nothing is looked up. Otherwise
 * each batch asks the database (`$in` by e-mail, which MongoDB answers from the unique index). A server that
 * cannot use that index (FerretDB 1.24 reads the whole collection for every query) makes each lookup cost as
 * much as the collection is large, so once lookups have taken IMPORT_LOOKUP_BUDGET_MS in all, one scan loads
 * every stored e-mail into a compact set (about 20 MB a million) and only the rows whose e-mail is in it are
 * looked up: none, in a file of new customers. The set never needs this import's own inserts (a later row
 * with the same e-mail is an in-file duplicate), and a customer someone else creates after the scan is still
 * caught by the unique index on insert.
 */
export class StoredEmails {
  private spentMs = 0;
  private known: CompactStringSet | undefined;
  private checkedEmpty = false;

  async find(emails: string[]): Promise<Map<string, StoredCustomerDoc>> {
    if (!this.checkedEmpty) {
      // Into an empty collection (a first import, a restore), nothing needs looking up at all.
      this.checkedEmpty = true;
      if (!(await Customer.collection.findOne({}, { projection: { _id: 1 } }))) this.known = new CompactStringSet();
    }
    if (!this.known && this.spentMs >= config.dataImport.lookupBudgetMs) this.known = await this.loadAll();
    const known = this.known;
    const asked = known ? emails.filter((email) => known.has(email)) : emails;
    const found = new Map<string, StoredCustomerDoc>();
    if (asked.length === 0) return found;
    const started = performance.now();
    const cursor = Customer.collection.find<StoredCustomerDoc>({ email: { $in: asked } }, { projection: { password_hash: 0 } });
    for await (const doc of cursor) found.set(doc.email, doc);
    this.spentMs += performance.now() - started;
    return found;
  }

  private async loadAll(): Promise<CompactStringSet> {
    const known = new CompactStringSet();
    const cursor = Customer.collection.find<{ email: string }>({}, { projection: { _id: 0, email: 1 } }).batchSize(10_000);
    for await (const doc of cursor) known.addOrGet(doc.email, 1);
    return known;
  }
}

/** The owner ids of a batch that belong to existing users. */
export async function existingOwners(batch: Candidate[]): Promise<Set<string>> {
  const ownerIds = [...new Set(batch.map((c) => c.fields.owner_id).filter((v): v is string => Boolean(v)))];
  const owners = new Set<string>();
  if (ownerIds.length > 0) {
    const found = User.collection.find<{ _id: Types.ObjectId }>(
      { _id: { $in: ownerIds.map((id) => new ObjectId(id)) } },
      { projection: { _id: 1 } },
    );
    for await (const user of found) owners.add(user._id.toHexString());
  }
  return owners;
}
