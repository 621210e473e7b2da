import type { Types } from 'mongoose';
import { config } from '../../config/env';
import { companyKey, Customer } from '../../models/customer.model';
import { ImportChange } from '../../models/import-job.model';
import type { ErrorDetail } from '../../utils/app-error';
import type { Principal } from '../../utils/principal';
import { patchFields, updateDocument } from '../../utils/update-document';
import { recordJobChanges } from '../activity.service';
import { customersWithDependents } from '../dependents.service';
import { refreshDuplicateKeys } from '../duplicates.service';

// Undoing one import's rows, batch by batch: which created customers go, which updated ones get their
// before-image back, which are conflicts. revert-job.ts runs it as a job (claim, progress, async, resume).

interface ChangeDoc {
  customer: Types.ObjectId;
  row: number;
  action: 'created' | 'updated';
  written_at: Date;
  /** Every tracked field, null where the row had none (batch-plan.ts). */
  before?: Record<string, unknown> & { updated_at?: Date | null };
  /** The names of the fields the import changed (absent in records written before they were kept). */
  fields?: string[];
}

/** A stored change record (batch-plan.ts): one per updated row, or one per batch of created rows. */
type StoredChange =
  | (ChangeDoc & { _id: Types.ObjectId; customers?: undefined })
  | { _id: Types.ObjectId; action: 'created'; customers: Types.ObjectId[]; rows?: number[]; written_at: Date; customer?: undefined };

/** A stored change record as one entry per row (created rows are stored one record per batch). */
function* perRow(change: StoredChange): Generator<ChangeDoc> {
  if (change.customers) {
    for (const [i, customer] of change.customers.entries()) {
      yield { customer, row: change.rows?.[i] ?? 0, action: 'created', written_at: change.written_at };
    }
  } else if (change.customer) yield change;
}

/**
 * The created customers a revert may delete: not those that have since gained interactions or tickets,
 * which DELETE /customers/:id would refuse too (409) and which a revert must not orphan.
 */
async function withoutDependents(created: ChangeDoc[], keep: (change: ChangeDoc) => void): Promise<Types.ObjectId[]> {
  if (created.length === 0) return [];
  const linked = await customersWithDependents(created.map((change) => change.customer));
  const deletable: Types.ObjectId[] = [];
  for (const change of created) {
    if (linked.has(change.customer.toHexString())) keep(change);
    else deletable.push(change.customer);
  }
  return deletable;
}

/** The `updated_at` of each customer the changes name that still exists. */
async function currentUpdatedAt(changes: ChangeDoc[]): Promise<Map<string, Date | undefined>> {
  const current = new Map<string, Date | undefined>();
  const ids = changes.map((c) => c.customer);
  for await (const doc of Customer.collection.find<{ _id: Types.ObjectId; updated_at?: Date }>(
    { _id: { $in: ids } },
    { projection: { updated_at: 1 } },
  )) {
    current.set(doc._id.toHexString(), doc.updated_at);
  }
  return current;
}

/**
 * Puts an updated row's before-image back, as long as the row still carries the import's write. A
 * before-image holds every tracked field, null where the row had none (batch-plan.ts).
 */
function restoreOperation(change: ChangeDoc) {
  const before = change.before ?? {};
  // The company's lower-cased key follows the company put back (before-images do not carry it).
  const key = 'company' in before ? { company_key: typeof before.company === 'string' ? (companyKey(before.company) ?? null) : null } : {};
  const update = updateDocument(patchFields({ ...before, ...key }));
  return { updateOne: { filter: { _id: change.customer, updated_at: change.written_at }, update } };
}

/** What a revert has done so far: kept with its job after every batch, so a resumed revert counts on. */
export interface RevertProgress {
  deleted: number;
  restored: number;
  conflicts: number;
  rows_processed: number;
  details: ErrorDetail[];
}

/** Names the activity entry of a restored row lists when its change record predates `fields`. */
const restorableFields = ['address', 'company', 'name', 'owner', 'phone', 'status', 'tags'];

/** One revert's work, batch by batch: its counts, and the rows it left alone (conflicts). */
export class JobRevert {
  constructor(
    private readonly jobId: Types.ObjectId,
    private readonly actor: Principal,
    readonly progress: RevertProgress,
    /** Called after each batch with the last change record it finished: the checkpoint a resumed revert starts after. */
    private readonly onBatch: (checkpoint: Types.ObjectId) => Promise<void>,
  ) {}

  /** Reads the job's change records in the order they were written (after `checkpoint`) and undoes them batch by batch. */
  async revertAll(checkpoint: Types.ObjectId | undefined): Promise<void> {
    let batch: ChangeDoc[] = [];
    let last: Types.ObjectId | undefined;
    const filter = checkpoint ? { job: this.jobId, _id: { $gt: checkpoint } } : { job: this.jobId };
    for await (const stored of ImportChange.collection.find<StoredChange>(filter).sort({ _id: 1 }).batchSize(100)) {
      batch.push(...perRow(stored));
      last = stored._id;
      // Rows undone together: IMPORT_BATCH_SIZE, as the import wrote them (a record of created rows is never split).
      if (batch.length >= config.dataImport.batchSize) {
        await this.revertBatch(batch, last);
        batch = [];
      }
    }
    if (batch.length > 0 && last) await this.revertBatch(batch, last);
  }

  private conflict(change: ChangeDoc, message: string): void {
    this.progress.conflicts += 1;
    if (this.progress.details.length < config.dataImport.maxErrors)
      this.progress.details.push({ location: `row ${change.row}`, field: change.customer.toHexString(), message });
  }

  private async revertBatch(changes: ChangeDoc[], last: Types.ObjectId): Promise<void> {
    const current = await currentUpdatedAt(changes);
    const created: ChangeDoc[] = [];
    const restored: ChangeDoc[] = [];
    for (const change of changes) {
      if (!this.revertible(change, current)) continue;
      if (change.action === 'created') created.push(change);
      else restored.push(change);
    }
    const toDelete = await withoutDependents(created, (change) =>
      this.conflict(change, 'the customer has interactions or tickets since the import; kept'),
    );
    if (toDelete.length > 0) this.progress.deleted += (await Customer.collection.deleteMany({ _id: { $in: toDelete } })).deletedCount;
    if (restored.length > 0) this.progress.restored += (await Customer.collection.bulkWrite(restored.map(restoreOperation))).modifiedCount;
    // The duplicate keys follow the values put back, and removed customers lose their duplicate marks.
    await refreshDuplicateKeys([...toDelete, ...restored.map((change) => change.customer)]);
    // The customers' timelines: one insert for the batch, each entry naming the job.
    await recordJobChanges(
      this.actor,
      'customer',
      [
        ...toDelete.map((_id) => ({ before: { _id }, after: null })),
        ...restored.map((change) => ({
          before: { _id: change.customer },
          after: { _id: change.customer },
          extraFields: change.fields ?? restorableFields,
        })),
      ],
      this.jobId,
    );
    this.progress.rows_processed += changes.length;
    await this.onBatch(last);
  }

  /** Whether the row still carries the import's own `updated_at`; the rows changed since are conflicts. */
  private revertible(change: ChangeDoc, current: Map<string, Date | undefined>): boolean {
    const key = change.customer.toHexString();
    if (!current.has(key)) {
      if (change.action === 'updated') this.conflict(change, 'the customer was deleted since the import');
      return false; // a created row that is gone (deleted since, or never written before a crash)
    }
    const updatedAt = current.get(key);
    if (updatedAt?.getTime() === change.written_at.getTime()) return true;
    // An update recorded but never applied (crash in between), or already put back by an interrupted revert
    // of this job, leaves the row as it was before: nothing to do.
    if (change.action === 'updated' && updatedAt?.getTime() === change.before?.updated_at?.getTime()) return false;
    this.conflict(change, 'the customer was changed after the import; left as it is');
    return false;
  }
}
