import { markCountersStale } from './analytics-counters.service';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import mongoose, { type Types } from 'mongoose';
import { config } from '../config/env';
import { Customer } from '../models/customer.model';
import { ImportChange, ImportClaim, ImportJob, type ImportFormat, type ImportJobRecord, type ImportMode } from '../models/import-job.model';
import { AppError, type ErrorDetail } from '../utils/app-error';
import type { Upload } from '../utils/import-upload';
import { logger } from '../utils/logger';
import type { Principal } from '../utils/principal';
import { patchFields, updateDocument } from '../utils/update-document';
import { customersWithDependents } from './dependents.service';
import { emptyReport, ImportRun, type ImportReport } from './import.service';

const ObjectId = mongoose.Types.ObjectId;

export interface ImportOptions {
  mode: ImportMode;
  dryRun: boolean;
  atomic: boolean;
  async: boolean;
}

export function jobView(job: ImportJobRecord) {
  return {
    id: job._id.toHexString(),
    status: job.status,
    mode: job.mode,
    format: job.format ?? null,
    dry_run: job.dry_run ?? false,
    atomic: job.atomic ?? false,
    async: job.async ?? false,
    applied: job.applied ?? false,
    rows_processed: job.rows_processed ?? 0,
    total_rows: job.total_rows ?? null,
    report: { ...emptyReport(), ...(job.report as Partial<ImportReport> | undefined) },
    error: job.error?.message ? { status: job.error.status ?? 500, code: job.error.code ?? 'IMPORT_FAILED', message: job.error.message } : null,
    revert: job.revert_report ? { deleted: job.revert_report.deleted ?? 0, restored: job.revert_report.restored ?? 0, conflicts: job.revert_report.conflicts ?? 0 } : null,
    created_at: job.created_at,
    updated_at: job.updated_at,
    finished_at: job.finished_at ?? null,
    reverted_at: job.reverted_at ?? null,
  };
}
export type JobView = ReturnType<typeof jobView>;

/** A job is declared dead when its heartbeat is older than this (restart, crash, lost instance). */
function staleBefore(): Date {
  return new Date(Date.now() - config.dataImport.jobStaleMs);
}

const interrupted = {
  status: 500,
  code: 'INTERRUPTED',
  message: 'The import stopped before it finished (service restart or crash); the rows processed before were written and can be reverted',
};

function spoolFile(jobId: Types.ObjectId, format: string): string {
  return path.join(os.tmpdir(), `crm-import-${jobId.toHexString()}.${format}`);
}

/**
 * Fails every running job whose heartbeat has stopped (its process died: restart, crash, lost instance),
 * keeping its progress, and removes its spooled upload. Run at service start, then periodically.
 */
export async function failStaleJobs(): Promise<number> {
  const stale = await ImportJob.collection
    .find<{ _id: Types.ObjectId; format?: string }>({ status: 'running', heartbeat_at: { $lt: staleBefore() } }, { projection: { _id: 1, format: 1 } })
    .limit(1000)
    .toArray();
  if (stale.length === 0) return 0;
  const now = new Date();
  const result = await ImportJob.collection.updateMany(
    { _id: { $in: stale.map((job) => job._id) }, status: 'running' },
    { $set: { status: 'failed', error: interrupted, finished_at: now, updated_at: now } },
  );
  await Promise.all(stale.map((job) => rm(spoolFile(job._id, job.format ?? 'csv'), { force: true })));
  if (result.modifiedCount > 0) logger.warn({ jobs: result.modifiedCount }, 'import jobs interrupted: marked failed');
  return result.modifiedCount;
}

export function startStaleJobSweeper(): NodeJS.Timeout {
  const timer = setInterval(() => {
    failStaleJobs().catch((error: unknown) => logger.warn({ err: error }, 'stale import job sweep failed'));
  }, Math.max(1000, config.dataImport.jobStaleMs / 2));
  timer.unref();
  return timer;
}

async function createJob(principal: Principal, options: ImportOptions, format: ImportFormat) {
  const now = new Date();
  const job = {
    _id: new ObjectId(),
    created_by: new ObjectId(principal.id),
    status: 'running',
    mode: options.mode,
    format,
    dry_run: options.dryRun,
    atomic: options.atomic,
    async: options.async,
    applied: false,
    rows_processed: 0,
    report: emptyReport(),
    heartbeat_at: now,
    created_at: now,
    updated_at: now,
  };
  await ImportJob.collection.insertOne(job);
  return job._id;
}

function asAppError(error: unknown): AppError | undefined {
  return error instanceof AppError ? error : undefined;
}

/** Runs the job to its end, keeping its heartbeat, and records the outcome (completed or failed). */
class JobExecution {
  private current: ImportRun | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly jobId: Types.ObjectId,
    private readonly principal: Principal,
    private readonly options: ImportOptions,
    private readonly format: ImportFormat,
    private readonly bytes: () => number,
  ) {
    this.timer = setInterval(() => void this.beat(), Math.max(250, config.dataImport.jobStaleMs / 4));
    this.timer.unref();
  }

  private async beat() {
    try {
      const result = await ImportJob.collection.updateOne({ _id: this.jobId, status: 'running' }, { $set: { heartbeat_at: new Date() } });
      if (result.matchedCount === 0) this.current?.abort(new AppError(409, 'JOB_ABORTED', 'The import job was stopped (declared stale or failed)'));
    } catch (error) {
      logger.warn({ err: error, job: this.jobId.toHexString() }, 'import job heartbeat failed');
    }
  }

  private newRun(dryRun: boolean) {
    this.current = new ImportRun({ jobId: this.jobId, importerId: this.principal.id, mode: this.options.mode, dryRun, format: this.format });
    return this.current;
  }

  private assertNotEmpty(report: ImportReport) {
    if (report.total > 0) return;
    throw AppError.badRequest(this.bytes() === 0 ? 'The file is empty' : 'The file has no data rows');
  }

  /** `open` gives the file from its start; an atomic import reads it twice (validate, then write). */
  async execute(open: () => Readable): Promise<void> {
    try {
      let report: ImportReport;
      let applied = !this.options.dryRun;
      if (this.options.atomic && !this.options.dryRun) {
        const check = await this.newRun(true).run(open());
        this.assertNotEmpty(check);
        if (check.failed > 0) {
          report = check;
          applied = false;
        } else {
          await ImportJob.collection.updateOne({ _id: this.jobId }, { $set: { total_rows: check.total } });
          report = await this.newRun(false).run(open());
        }
      } else {
        report = await this.newRun(this.options.dryRun).run(open());
        this.assertNotEmpty(report);
      }
      const now = new Date();
      await ImportJob.collection.updateOne(
        { _id: this.jobId, status: 'running' },
        { $set: { status: 'completed', applied, report, rows_processed: report.total, total_rows: report.total, finished_at: now, updated_at: now } },
      );
    } catch (error) {
      await this.fail(error);
      throw error;
    } finally {
      clearInterval(this.timer);
    }
  }

  async fail(error: unknown) {
    const appError = asAppError(error);
    if (!appError) logger.error({ err: error, job: this.jobId.toHexString() }, 'import job failed');
    const report = this.current?.report ?? emptyReport();
    const now = new Date();
    await ImportJob.collection
      .updateOne(
        { _id: this.jobId, status: 'running' },
        {
          $set: {
            status: 'failed',
            applied: !this.options.dryRun && report.inserted + report.updated > 0,
            report,
            rows_processed: report.total,
            error: appError ? { status: appError.status, code: appError.code, message: appError.message } : { status: 500, code: 'INTERNAL_ERROR', message: 'The import failed unexpectedly' },
            finished_at: now,
            updated_at: now,
          },
        },
      )
      .catch((dbError: unknown) => logger.warn({ err: dbError }, 'could not record the import job failure'));
  }

  stop() {
    clearInterval(this.timer);
  }
}

export async function findJob(id: string, principal: Principal): Promise<ImportJobRecord> {
  const job = await ImportJob.findOne({ _id: id, created_by: principal.id }).lean<ImportJobRecord>();
  if (!job) throw AppError.notFound('Import job');
  if (job.status === 'running' && job.heartbeat_at < staleBefore()) {
    await failStaleJobs();
    return (await ImportJob.findById(id).lean<ImportJobRecord>()) ?? job;
  }
  return job;
}

export async function getJob(id: string, principal: Principal): Promise<JobView> {
  return jobView(await findJob(id, principal));
}

export type ImportOutcome = { status: 200; job: JobView } | { status: 202; job: JobView };

/**
 * One import from upload to report. Synchronous imports parse while the body arrives. Atomic and async
 * imports first copy the upload to a temporary file (constant memory), because they read it twice or
 * after the response.
 */
export async function importUpload(upload: Upload, principal: Principal, options: ImportOptions, onJob: (id: string) => void): Promise<ImportOutcome> {
  const jobId = await createJob(principal, options, upload.format);
  onJob(jobId.toHexString());
  const execution = new JobExecution(jobId, principal, options, upload.format, upload.bytes);
  const spooled = options.async || options.atomic;
  const file = spoolFile(jobId, upload.format);
  if (spooled) {
    try {
      await pipeline(upload.stream, createWriteStream(file));
    } catch (error) {
      await execution.fail(error);
      execution.stop();
      await rm(file, { force: true });
      throw error;
    }
  }
  const open = () => (spooled ? createReadStream(file) : upload.stream);
  const done = execution.execute(open).finally(() => (spooled ? rm(file, { force: true }) : undefined));
  if (options.async) {
    done.catch(() => undefined);
    const job = await ImportJob.findById(jobId).lean<ImportJobRecord>();
    if (!job) throw AppError.notFound('Import job');
    return { status: 202, job: jobView(job) };
  }
  await done;
  const job = await ImportJob.findById(jobId).lean<ImportJobRecord>();
  if (!job) throw AppError.notFound('Import job');
  return { status: 200, job: jobView(job) };
}

interface ChangeDoc {
  customer: Types.ObjectId;
  row: number;
  action: 'created' | 'updated';
  written_at: Date;
  before?: Record<string, unknown>;
}

interface StoredChange extends Partial<ChangeDoc> {
  _id: Types.ObjectId;
  customers?: Types.ObjectId[];
  rows?: number[];
}

/** A stored change record as one entry per row (created rows are stored one record per batch). */
function* perRow(change: StoredChange): Generator<ChangeDoc> {
  if (change.customers) {
    for (const [i, customer] of change.customers.entries()) {
      yield { customer, row: change.rows?.[i] ?? 0, action: 'created', written_at: change.written_at as Date };
    }
  } else if (change.customer) yield change as ChangeDoc;
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

/**
 * Undoes an import: deletes the rows it created and puts back the before-images of the rows it updated,
 * but only where the row still carries the import's own `updated_at`; rows changed since, and created rows
 * that have interactions or tickets now, are reported (409) and left alone, the rest reverted.
 */
export async function revertJob(id: string, principal: Principal) {
  const job = await findJob(id, principal);
  if (job.status === 'running') throw AppError.conflict('The import is still running; wait for it to finish', undefined, 'JOB_RUNNING');
  if (job.status === 'reverted') throw AppError.conflict('This import has already been reverted', undefined, 'ALREADY_REVERTED');
  if (job.dry_run) throw AppError.conflict('A dry run wrote nothing to revert', undefined, 'NOTHING_TO_REVERT');
  try {
    await ImportClaim.collection.insertOne({ _id: `revert:${id}` as unknown as Types.ObjectId, at: new Date() });
  } catch {
    throw AppError.conflict('This import is already being reverted', undefined, 'ALREADY_REVERTED');
  }

  let deleted = 0;
  let restored = 0;
  let conflicts = 0;
  const details: ErrorDetail[] = [];
  const conflict = (change: ChangeDoc, message: string) => {
    conflicts += 1;
    if (details.length < config.dataImport.maxErrors) details.push({ location: `row ${change.row}`, field: change.customer.toHexString(), message });
  };

  const revertBatch = async (changes: ChangeDoc[]) => {
    const current = new Map<string, Date | undefined>();
    const ids = changes.map((c) => c.customer);
    for await (const doc of Customer.collection.find<{ _id: Types.ObjectId; updated_at?: Date }>({ _id: { $in: ids } }, { projection: { updated_at: 1 } })) {
      current.set(doc._id.toHexString(), doc.updated_at);
    }
    const created: ChangeDoc[] = [];
    const restores: { updateOne: { filter: Record<string, unknown>; update: Record<string, unknown> } }[] = [];
    for (const change of changes) {
      const key = change.customer.toHexString();
      if (!current.has(key)) {
        if (change.action === 'updated') conflict(change, 'the customer was deleted since the import');
        continue; // a created row that is gone (deleted since, or never written before a crash)
      }
      const updatedAt = current.get(key);
      if (updatedAt?.getTime() !== change.written_at.getTime()) {
        // An update recorded but never applied (crash in between) leaves the row as it was: nothing to do.
        if (change.action === 'updated' && updatedAt?.getTime() === (change.before?.updated_at as Date | undefined)?.getTime()) continue;
        conflict(change, 'the customer was changed after the import; left as it is');
        continue;
      }
      if (change.action === 'created') created.push(change);
      else {
        // A before-image holds every tracked field, null where the row had none.
        const update = updateDocument(patchFields(change.before ?? {}));
        restores.push({ updateOne: { filter: { _id: change.customer, updated_at: change.written_at }, update } });
      }
    }
    const toDelete = await withoutDependents(created, (change) => conflict(change, 'the customer has interactions or tickets since the import; kept'));
    if (toDelete.length > 0) deleted += (await Customer.collection.deleteMany({ _id: { $in: toDelete } })).deletedCount;
    if (restores.length > 0) restored += (await Customer.collection.bulkWrite(restores)).modifiedCount;
  };

  let batch: ChangeDoc[] = [];
  for await (const stored of ImportChange.collection.find<StoredChange>({ job: job._id }).sort({ _id: 1 }).batchSize(100)) {
    for (const change of perRow(stored)) {
      batch.push(change);
      if (batch.length >= 1000) {
        await revertBatch(batch);
        batch = [];
      }
    }
  }
  if (batch.length > 0) await revertBatch(batch);
  // The before-images hold only the tracked fields, not enough for exact counter deltas: the analytics
  // counters are rebuilt from the collections on their next read instead.
  if (deleted + restored > 0) await markCountersStale();

  const now = new Date();
  await ImportJob.collection.updateOne(
    { _id: job._id },
    { $set: { status: 'reverted', reverted_at: now, updated_at: now, revert_report: { deleted, restored, conflicts } } },
  );
  const summary = { message: 'Import reverted', job_id: id, deleted, restored, conflicts };
  if (conflicts > 0) {
    throw AppError.conflict(
      `${conflicts} row(s) changed since the import were left as they are; the other rows were reverted (deleted ${deleted}, restored ${restored})`,
      details,
      'REVERT_CONFLICT',
    );
  }
  return summary;
}
