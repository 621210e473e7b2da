import type { Types } from 'mongoose';
import { config } from '../../config/env';
import { typedCollection } from '../../database/typed-collection';
import { companyKey, Customer } from '../../models/customer.model';
import { ImportChange, ImportClaim, ImportJob } from '../../models/import-job.model';
import { AppError, type ErrorDetail } from '../../utils/app-error';
import type { Principal } from '../../utils/principal';
import { patchFields, updateDocument } from '../../utils/update-document';
import { markCountersStale } from '../analytics';
import { customersWithDependents } from '../dependents.service';
import { findJob, type StoredJob } from './job';

/** Change records read and undone together. */
const REVERT_BATCH = 1000;

interface ChangeDoc {
  customer: Types.ObjectId;
  row: number;
  action: 'created' | 'updated';
  written_at: Date;
  /** Every tracked field, null where the row had none (batch-plan.ts). */
  before?: Record<string, unknown> & { updated_at?: Date | null };
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

/** Refuses a revert that has nothing (or nothing yet) to undo, and claims the job: one revert per job. */
async function claimRevert(job: StoredJob, id: string): Promise<void> {
  if (job.status === 'running') throw AppError.conflict('The import is still running; wait for it to finish', undefined, 'JOB_RUNNING');
  if (job.status === 'reverted') throw AppError.conflict('This import has already been reverted', undefined, 'ALREADY_REVERTED');
  if (job.dry_run) throw AppError.conflict('A dry run wrote nothing to revert', undefined, 'NOTHING_TO_REVERT');
  try {
    await typedCollection<{ _id: string; at: Date }>(ImportClaim).insertOne({ _id: `revert:${id}`, at: new Date() });
  } catch {
    throw AppError.conflict('This import is already being reverted', undefined, 'ALREADY_REVERTED');
  }
}

/** One revert's work, batch by batch: its counts, and the rows it left alone (conflicts). */
class JobRevert {
  deleted = 0;
  restored = 0;
  conflicts = 0;
  readonly details: ErrorDetail[] = [];

  /** Reads the job's change records in the order they were written and undoes them batch by batch. */
  async revertAll(jobId: Types.ObjectId): Promise<void> {
    let batch: ChangeDoc[] = [];
    for await (const stored of ImportChange.collection.find<StoredChange>({ job: jobId }).sort({ _id: 1 }).batchSize(100)) {
      for (const change of perRow(stored)) {
        batch.push(change);
        if (batch.length >= REVERT_BATCH) {
          await this.revertBatch(batch);
          batch = [];
        }
      }
    }
    if (batch.length > 0) await this.revertBatch(batch);
  }

  private conflict(change: ChangeDoc, message: string): void {
    this.conflicts += 1;
    if (this.details.length < config.dataImport.maxErrors)
      this.details.push({ location: `row ${change.row}`, field: change.customer.toHexString(), message });
  }

  private async revertBatch(changes: ChangeDoc[]): Promise<void> {
    const current = await currentUpdatedAt(changes);
    const created: ChangeDoc[] = [];
    const restores: ReturnType<typeof restoreOperation>[] = [];
    for (const change of changes) {
      if (!this.revertible(change, current)) continue;
      if (change.action === 'created') created.push(change);
      else restores.push(restoreOperation(change));
    }
    const toDelete = await withoutDependents(created, (change) =>
      this.conflict(change, 'the customer has interactions or tickets since the import; kept'),
    );
    if (toDelete.length > 0) this.deleted += (await Customer.collection.deleteMany({ _id: { $in: toDelete } })).deletedCount;
    if (restores.length > 0) this.restored += (await Customer.collection.bulkWrite(restores)).modifiedCount;
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
    // An update recorded but never applied (crash in between) leaves the row as it was: nothing to do.
    if (change.action === 'updated' && updatedAt?.getTime() === change.before?.updated_at?.getTime()) return false;
    this.conflict(change, 'the customer was changed after the import; left as it is');
    return false;
  }
}

/**
 * Undoes an import: deletes the rows it created and puts back the before-images of the rows it updated,
 * but only where the row still carries the import's own `updated_at`; rows changed since, and created rows
 * that have interactions or tickets now, are reported (409) and left alone, the rest reverted.
 */
export async function revertJob(id: string, principal: Principal) {
  const job = await findJob(id, principal);
  await claimRevert(job, id);
  const revert = new JobRevert();
  await revert.revertAll(job._id);
  const { deleted, restored, conflicts } = revert;
  // The before-images hold only the tracked fields, not enough for exact counter deltas: the analytics
  // counters are rebuilt from the collections on their next read instead.
  if (deleted + restored > 0) await markCountersStale();

  const now = new Date();
  await ImportJob.collection.updateOne(
    { _id: job._id },
    { $set: { status: 'reverted', reverted_at: now, updated_at: now, revert_report: { deleted, restored, conflicts } } },
  );
  if (conflicts > 0) {
    throw AppError.conflict(
      `${conflicts} row(s) changed since the import were left as they are; the other rows were reverted (deleted ${deleted}, restored ${restored})`,
      revert.details,
      'REVERT_CONFLICT',
    );
  }
  return { message: 'Import reverted', job_id: id, deleted, restored, conflicts };
}
