import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import mongoose, { type Types } from 'mongoose';
import { config } from '../../config/env';
import { inTransaction, sessionOption } from '../../database/transaction';
import { ImportJob, type ImportFormat, type ImportJobRecord, type ImportMode } from '../../models/import-job.model';
import { AppError, type ErrorDetail } from '../../utils/app-error';
import { logger } from '../../utils/logger';
import type { Principal } from '../../utils/principal';
import { publishEvent } from '../integrations';
import { recordJob } from '../activity.service';
import { emptyReport, type ImportReport } from './report';
import { ImportRun } from './run';
import type { Upload } from './upload';

const ObjectId = mongoose.Types.ObjectId;

export interface ImportOptions {
  mode: ImportMode;
  dryRun: boolean;
  atomic: boolean;
  async: boolean;
}

/**
 * An import job as read (lean). The schema's inferred type describes a hydrated document (the report's errors
 * a DocumentArray of nullable fields); as stored, the report is the ImportReport the job wrote.
 */
export type StoredJob = Omit<ImportJobRecord, 'report' | 'revert_report'> & {
  report?: Partial<ImportReport> | null;
  revert_report?: StoredRevertReport | null;
};

/** A revert's progress as stored (revert.ts RevertProgress; older jobs hold only the three counts). */
export interface StoredRevertReport {
  deleted?: number;
  restored?: number;
  conflicts?: number;
  rows_processed?: number;
  details?: ErrorDetail[];
}

export function jobView(job: StoredJob) {
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
    report: { ...emptyReport(), ...job.report },
    error: job.error?.message
      ? { status: job.error.status ?? 500, code: job.error.code ?? 'IMPORT_FAILED', message: job.error.message }
      : null,
    revert: revertView(job),
    created_at: job.created_at,
    updated_at: job.updated_at,
    finished_at: job.finished_at ?? null,
    reverted_at: job.reverted_at ?? null,
  };
}
export type JobView = ReturnType<typeof jobView>;

/** A job's revert: null until one is asked for; its progress while it runs; its outcome after. */
function revertView(job: StoredJob) {
  if (job.status !== 'reverting' && job.status !== 'reverted') return null;
  const report = job.revert_report;
  const error = job.status === 'reverting' && job.revert_error?.code ? job.revert_error : undefined;
  return {
    status: job.status === 'reverted' ? ('completed' as const) : error ? ('failed' as const) : ('running' as const),
    async: job.revert_async ?? false,
    rows_processed: report?.rows_processed ?? 0,
    total_rows: job.revert_total_rows ?? null,
    deleted: report?.deleted ?? 0,
    restored: report?.restored ?? 0,
    conflicts: report?.conflicts ?? 0,
    conflict_details: (report?.details ?? []).map((d) => ({ location: d.location ?? '', field: d.field, message: d.message })),
    error: error ? { status: error.status ?? 500, code: error.code ?? 'INTERNAL_ERROR', message: error.message ?? '' } : null,
  };
}

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
    .find<{ _id: Types.ObjectId; format?: string }>(
      { status: 'running', heartbeat_at: { $lt: staleBefore() } },
      { projection: { _id: 1, format: 1 } },
    )
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

const revertInterrupted = {
  status: 500,
  code: 'INTERRUPTED',
  message: 'The revert stopped before it finished (service restart or crash); ask for it again to resume where it stopped',
};

/** Marks the reverts whose heartbeat has stopped as interrupted: the next revert request resumes them. */
export async function failStaleReverts(): Promise<number> {
  const result = await ImportJob.collection.updateMany(
    { status: 'reverting', revert_heartbeat_at: { $lt: staleBefore() }, 'revert_error.code': { $exists: false } },
    { $set: { revert_error: revertInterrupted, updated_at: new Date() } },
  );
  if (result.modifiedCount > 0) logger.warn({ jobs: result.modifiedCount }, 'import reverts interrupted: marked for resumption');
  return result.modifiedCount;
}

export function startStaleJobSweeper(): NodeJS.Timeout {
  const timer = setInterval(
    () => {
      failStaleJobs().catch((error: unknown) => logger.warn({ err: error }, 'stale import job sweep failed'));
      failStaleReverts().catch((error: unknown) => logger.warn({ err: error }, 'stale import revert sweep failed'));
    },
    Math.max(1000, config.dataImport.jobStaleMs / 2),
  );
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
      if (result.matchedCount === 0)
        this.current?.abort(new AppError(409, 'JOB_ABORTED', 'The import job was stopped (declared stale or failed)'));
    } catch (error) {
      logger.warn({ err: error, job: this.jobId.toHexString() }, 'import job heartbeat failed');
    }
  }

  private newRun(dryRun: boolean) {
    this.current = new ImportRun({
      jobId: this.jobId,
      importer: this.principal,
      mode: this.options.mode,
      dryRun,
      format: this.format,
    });
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
      await this.complete(report, applied);
      await this.recordOnTrail(report);
    } catch (error) {
      await this.fail(error);
      throw error;
    } finally {
      clearInterval(this.timer);
    }
  }

  /** Records the outcome and, for an import that wrote (not a dry run), publishes `import.completed` with it. */
  private async complete(report: ImportReport, applied: boolean) {
    const now = new Date();
    await inTransaction(async () => {
      const result = await ImportJob.collection.updateOne(
        { _id: this.jobId, status: 'running' },
        {
          $set: {
            status: 'completed',
            applied,
            report,
            rows_processed: report.total,
            total_rows: report.total,
            finished_at: now,
            updated_at: now,
          },
        },
        sessionOption(),
      );
      if (result.modifiedCount === 0 || this.options.dryRun) return;
      const job = await ImportJob.findById(this.jobId).lean<StoredJob>();
      if (job) await publishEvent('import.completed', () => ({ object: jobView(job) }));
    });
  }

  /**
   * The job's own entry on the activity trail (its rows have theirs, written with each batch), naming the
   * report's non-zero counts. A dry run changed nothing and has none. The import is done whatever happens here.
   */
  private async recordOnTrail(report: ImportReport) {
    if (this.options.dryRun) return;
    const fields = (['inserted', 'updated', 'skipped', 'failed'] as const).filter((count) => report[count] > 0);
    await recordJob(this.principal, 'import', this.jobId, fields).catch((error: unknown) =>
      logger.warn({ err: error, job: this.jobId.toHexString() }, 'could not record the import on the activity trail'),
    );
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
            error: appError
              ? { status: appError.status, code: appError.code, message: appError.message }
              : { status: 500, code: 'INTERNAL_ERROR', message: 'The import failed unexpectedly' },
            finished_at: now,
            updated_at: now,
          },
        },
      )
      .catch((dbError: unknown) => logger.warn({ err: dbError }, 'could not record the import job failure'));
    await this.recordOnTrail(report);
  }

  stop() {
    clearInterval(this.timer);
  }
}

export async function findJob(id: string, principal: Principal): Promise<StoredJob> {
  const job = await ImportJob.findOne({ _id: id, created_by: principal.id }).lean<StoredJob>();
  if (!job) throw AppError.notFound('Import job');
  if (job.status === 'running' && job.heartbeat_at < staleBefore()) {
    await failStaleJobs();
    return (await ImportJob.findById(id).lean<StoredJob>()) ?? job;
  }
  if (job.status === 'reverting' && !job.revert_error?.code && (!job.revert_heartbeat_at || job.revert_heartbeat_at < staleBefore())) {
    await failStaleReverts();
    return (await ImportJob.findById(id).lean<StoredJob>()) ?? job;
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
export async function importUpload(
  upload: Upload,
  principal: Principal,
  options: ImportOptions,
  onJob: (id: string) => void,
): Promise<ImportOutcome> {
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
    const job = await ImportJob.findById(jobId).lean<StoredJob>();
    if (!job) throw AppError.notFound('Import job');
    return { status: 202, job: jobView(job) };
  }
  await done;
  const job = await ImportJob.findById(jobId).lean<StoredJob>();
  if (!job) throw AppError.notFound('Import job');
  return { status: 200, job: jobView(job) };
}
