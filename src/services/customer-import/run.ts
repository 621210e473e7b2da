import type { Readable } from 'node:stream';
import type { Types } from 'mongoose';
import { config } from '../../config/env';
import { isDuplicateKey } from '../../database/errors';
import { concurrently } from '../../database/transaction';
import { Customer } from '../../models/customer.model';
import { ImportChange, ImportJob, type ImportFormat, type ImportMode } from '../../models/import-job.model';
import { AppError } from '../../utils/app-error';
import type { Principal } from '../../utils/principal';
import { CompactStringSet } from '../../utils/compact-string-set';
import { recordJobChanges } from '../activity.service';
import { applyCustomerChanges } from '../analytics';
import { trashedCustomersWithEmails } from '../trash-holds.service';
import { planBatch, type BatchPlan, type NewCustomerDoc } from './batch-plan';
import { toCandidate, type Candidate } from './candidate';
import type { ColumnReport } from './columns';
import { existingOwners, StoredEmails } from './lookups';
import { readRows } from './readers';
import { emptyReport, type ImportReport, type RowError } from './report';
import { markImportedDuplicates } from '../duplicates.service';

export interface RunOptions {
  jobId: Types.ObjectId;
  /** Who runs the import: the actor of its activity entries, and the default owner of new customers. */
  importer: Principal;
  mode: ImportMode;
  dryRun: boolean;
  format: ImportFormat;
}

/**
 * Runs one pass of an import over a row stream: validates, detects in-file duplicates, and (unless a dry
 * run) writes in batches, recording each change before making it. Progress goes to the job document after
 * every batch, which is also the job's heartbeat.
 */
export class ImportRun {
  readonly report = emptyReport();
  readonly columns: ColumnReport = { unknown: this.report.unknown_columns, ignored: this.report.ignored_columns };
  private readonly seen = new CompactStringSet();
  private readonly stored = new StoredEmails();
  private batch: Candidate[] = [];
  private writing: Promise<void> = Promise.resolve();
  private writeFailure: { error: unknown } | undefined;
  private aborted: Error | undefined;

  constructor(private readonly options: RunOptions) {}

  /** Stops the run at its next batch (the job was failed elsewhere, e.g. declared stale). */
  abort(error: Error): void {
    this.aborted = error;
  }

  private fail(errors: RowError[]): void {
    this.report.failed += 1;
    for (const error of errors) {
      if (this.report.errors.length < config.dataImport.maxErrors) this.report.errors.push(error);
    }
  }

  async run(source: Readable): Promise<ImportReport> {
    try {
      await this.readAll(source);
      await this.flush();
    } finally {
      // Whatever ended the run, the batch being written is finished (and counted) before the caller records it.
      await this.writing;
    }
    if (this.writeFailure) throw this.writeFailure.error;
    // Rows are validated while the previous batch is written, so errors can arrive out of row order.
    this.report.errors.sort((a, b) => a.row - b.row);
    return this.report;
  }

  private async readAll(source: Readable): Promise<void> {
    for await (const row of readRows(source, this.options.format, this.columns)) {
      this.report.total += 1;
      const candidate = toCandidate(row, this.options.format);
      if (Array.isArray(candidate)) {
        this.fail(candidate);
        continue;
      }
      const earlier = this.seen.addOrGet(candidate.email, candidate.row);
      if (earlier !== undefined) {
        this.fail([{ row: candidate.row, field: 'email', message: `duplicate of row ${earlier} in this file` }]);
        continue;
      }
      this.batch.push(candidate);
      if (this.batch.length >= config.dataImport.batchSize) await this.flush();
    }
  }

  /**
   * Hands the batch to the writer once the previous one is written: one batch is written while the next is
   * read and validated, and batches are written in file order.
   */
  private async flush(): Promise<void> {
    await this.writing;
    if (this.writeFailure) throw this.writeFailure.error;
    if (this.aborted) throw this.aborted;
    const batch = this.batch;
    const processed = this.report.total;
    this.batch = [];
    // The failure is kept (not left as a rejected promise nobody awaits yet) and rethrown by the next flush.
    this.writing = (async () => {
      if (batch.length > 0) await this.writeBatch(batch);
      await this.saveProgress(processed);
    })().catch((error: unknown) => {
      this.writeFailure = { error };
    });
  }

  /** Records the rows read, validated and written so far (also the job's heartbeat). */
  private async saveProgress(processed: number): Promise<void> {
    const result = await ImportJob.collection.updateOne(
      { _id: this.options.jobId, status: 'running' },
      { $set: { rows_processed: processed, report: this.report, heartbeat_at: new Date() } },
    );
    if (result.matchedCount === 0) throw new AppError(409, 'JOB_ABORTED', 'The import job was stopped (declared stale or failed)');
  }

  /** Looks up what the batch needs, plans it, and (unless a dry run) writes it. */
  private async writeBatch(batch: Candidate[]): Promise<void> {
    const { mode, dryRun, jobId, importer } = this.options;
    const existing = await this.stored.find(batch.map((c) => c.email));
    // After the live lookup: a customer trashed meanwhile had its trash item written before it left `customers`.
    const trashed = await trashedCustomersWithEmails(batch.filter((c) => !existing.has(c.email)).map((c) => c.email));
    const owners = await existingOwners(batch);
    const plan = planBatch(batch, { mode, jobId, importerId: importer.id, existing, trashed, owners, now: new Date() });
    for (const failure of plan.failures) this.fail([failure]);
    this.report.skipped += plan.skipped;
    if (dryRun) {
      this.report.inserted += plan.inserts.length;
      this.report.updated += plan.updates.length;
      return;
    }
    await this.writePlan(plan);
  }

  /**
   * The change records go first: a crash after them and before the writes leaves a revert with nothing to
   * undo for those rows, never a write that a revert cannot find.
   */
  private async writePlan({ changes, inserts, insertRows, updates, analytics }: BatchPlan): Promise<void> {
    if (changes.length > 0) await ImportChange.collection.insertMany(changes);
    const inserted = inserts.length > 0 ? await this.insertAll(inserts, insertRows) : [];
    if (updates.length > 0) {
      const result = await Customer.collection.bulkWrite(updates.map((u) => ({ updateOne: u })));
      this.report.updated += result.matchedCount;
    }
    // Bulk writes bypass the per-request hooks, so the analytics counters and the activity trail (one insert of
    // the batch's entries, each naming the job) get this batch's changes here, with the duplicate marks: three
    // independent writes, sent together.
    const changed = [...inserted.map((doc) => ({ before: null, after: doc })), ...analytics];
    await concurrently(
      () => markImportedDuplicates(inserted, analytics),
      () => applyCustomerChanges(changed),
      () => recordJobChanges(this.options.importer, 'customer', changed, this.options.jobId),
    );
  }

  /**
   * insertMany, and when it stops on a duplicate (another writer took an e-mail since the lookup; FerretDB
   * also ignores ordered:false), finds what went in and inserts the rest one by one.
   */
  private async insertAll(docs: NewCustomerDoc[], rows: Map<string, number>): Promise<NewCustomerDoc[]> {
    try {
      await Customer.collection.insertMany(docs);
      this.report.inserted += docs.length;
      return docs;
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
    const ids = docs.map((d) => d._id);
    const present = new Set<string>();
    for await (const doc of Customer.collection.find<{ _id: Types.ObjectId }>({ _id: { $in: ids } }, { projection: { _id: 1 } })) {
      present.add(doc._id.toHexString());
    }
    this.report.inserted += present.size;
    const written = docs.filter((doc) => present.has(doc._id.toHexString()));
    for (const doc of docs) {
      const id = doc._id.toHexString();
      if (present.has(id)) continue;
      try {
        await Customer.collection.insertOne(doc);
        written.push(doc);
        this.report.inserted += 1;
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        this.fail([
          { row: rows.get(id) ?? 0, field: 'email', message: 'a customer with this e-mail was created by someone else during the import' },
        ]);
      }
    }
    return written;
  }
}
