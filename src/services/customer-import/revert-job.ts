import mongoose, { type Types } from 'mongoose';
import { config } from '../../config/env';
import { isDuplicateKey } from '../../database/errors';
import { typedCollection } from '../../database/typed-collection';
import { ImportClaim, ImportJob } from '../../models/import-job.model';
import { AppError } from '../../utils/app-error';
import { logger } from '../../utils/logger';
import type { Principal } from '../../utils/principal';
import { recordJob } from '../activity.service';
import { markCountersStale } from '../analytics';
import { findJob, jobView, type JobView, type StoredJob } from './job';
import { JobRevert, type RevertProgress } from './revert';

// A revert as a job, like an import: the job turns `reverting`, its progress and a heartbeat are written after
// every batch (and by a timer), and it ends `reverted`. `async=true` answers 202 at once. Each attempt is
// claimed by inserting `revert:<job id>:<attempt>` into import_job_claims (a unique insert: one winner on every
// engine). A revert whose process died (stale heartbeat), or that failed, is resumed by the next request for
// it, from the last change record its checkpoint names: what is done stays done, and a row already reverted is
// not touched again (restored rows no longer carry the import's updated_at; deleted ones are gone).

const ObjectId = mongoose.Types.ObjectId;

function staleBefore(): Date {
  return new Date(Date.now() - config.dataImport.jobStaleMs);
}

/** Whether a `reverting` job has nobody working on it: failed, or its process died. */
function abandoned(job: StoredJob): boolean {
  return Boolean(job.revert_error?.code) || !job.revert_heartbeat_at || job.revert_heartbeat_at < staleBefore();
}

/** Refuses a revert that has nothing (or nothing yet) to undo; claims the job's next revert attempt. */
async function claimRevert(job: StoredJob): Promise<number> {
  if (job.status === 'running') throw AppError.conflict('The import is still running; wait for it to finish', undefined, 'JOB_RUNNING');
  if (job.status === 'reverted') throw AppError.conflict('This import has already been reverted', undefined, 'ALREADY_REVERTED');
  if (job.dry_run) throw AppError.conflict('A dry run wrote nothing to revert', undefined, 'NOTHING_TO_REVERT');
  const busy = () =>
    AppError.conflict('This import is already being reverted; follow GET /import/jobs/{job_id}', undefined, 'REVERT_RUNNING');
  if (job.status === 'reverting' && !abandoned(job)) throw busy();
  const attempt = (job.revert_attempt ?? 0) + 1;
  try {
    await typedCollection<{ _id: string; at: Date }>(ImportClaim).insertOne({
      _id: `revert:${job._id.toHexString()}:${attempt}`,
      at: new Date(),
    });
  } catch (error) {
    if (isDuplicateKey(error)) throw busy();
    throw error;
  }
  return attempt;
}

/** One attempt at reverting a job: progress and heartbeat on the job document, the outcome at the end. */
class RevertExecution {
  private readonly timer: NodeJS.Timeout;
  private taken = false;

  constructor(
    private readonly job: StoredJob,
    private readonly attempt: number,
    private readonly actor: Principal,
  ) {
    this.timer = setInterval(() => void this.beat(), Math.max(250, config.dataImport.jobStaleMs / 4));
    this.timer.unref();
  }

  private get mine() {
    return { _id: this.job._id, status: 'reverting', revert_attempt: this.attempt };
  }

  private async beat() {
    const result = await ImportJob.collection
      .updateOne(this.mine, { $set: { revert_heartbeat_at: new Date() } })
      .catch((error: unknown) => logger.warn({ err: error, job: this.job._id.toHexString() }, 'revert heartbeat failed'));
    if (result && result.matchedCount === 0) this.taken = true;
  }

  /** Records the batch's progress and checkpoint; stops when another attempt has taken the revert over. */
  private async save(progress: RevertProgress, checkpoint: Types.ObjectId) {
    const result = await ImportJob.collection.updateOne(this.mine, {
      $set: { revert_report: progress, revert_checkpoint: checkpoint, revert_heartbeat_at: new Date(), updated_at: new Date() },
    });
    if (result.matchedCount === 0 || this.taken) throw new AppError(409, 'JOB_ABORTED', 'The revert was taken over by another attempt');
  }

  async run(): Promise<RevertProgress> {
    try {
      // A resumed revert counts on from the progress its earlier attempts saved.
      const saved = this.job.revert_report;
      const progress: RevertProgress = {
        deleted: saved?.deleted ?? 0,
        restored: saved?.restored ?? 0,
        conflicts: saved?.conflicts ?? 0,
        rows_processed: saved?.rows_processed ?? 0,
        details: saved?.details ?? [],
      };
      const revert = new JobRevert(this.job._id, this.actor, progress, (checkpoint) => this.save(progress, checkpoint));
      await revert.revertAll(this.job.revert_checkpoint ?? undefined);
      // The before-images hold only the tracked fields, not enough for exact counter deltas: the analytics
      // counters are rebuilt from the collections on their next read instead.
      if (progress.deleted + progress.restored > 0) await markCountersStale();
      const now = new Date();
      await ImportJob.collection.updateOne(this.mine, {
        $set: { status: 'reverted', reverted_at: now, updated_at: now, revert_report: progress, revert_heartbeat_at: now },
      });
      const fields = (['deleted', 'restored', 'conflicts'] as const).filter((count) => progress[count] > 0);
      // The revert is done whatever happens here.
      await recordJob(this.actor, 'revert', this.job._id, fields).catch((error: unknown) =>
        logger.warn({ err: error, job: this.job._id.toHexString() }, 'could not record the revert on the activity trail'),
      );
      return progress;
    } catch (error) {
      await this.fail(error);
      throw error;
    } finally {
      clearInterval(this.timer);
    }
  }

  private async fail(error: unknown) {
    const appError = error instanceof AppError ? error : undefined;
    if (appError?.code === 'JOB_ABORTED') return;
    if (!appError) logger.error({ err: error, job: this.job._id.toHexString() }, 'import revert failed');
    const revertError = appError
      ? { status: appError.status, code: appError.code, message: appError.message }
      : { status: 500, code: 'INTERNAL_ERROR', message: 'The revert failed unexpectedly; ask for it again to resume where it stopped' };
    await ImportJob.collection
      .updateOne(this.mine, { $set: { revert_error: revertError, updated_at: new Date() } })
      .catch((dbError: unknown) => logger.warn({ err: dbError }, 'could not record the revert failure'));
  }
}

/** The job as the claim leaves it: `reverting`, this attempt's, with a fresh heartbeat and no error. */
async function startAttempt(job: StoredJob, attempt: number, actor: Principal, async: boolean): Promise<StoredJob> {
  const now = new Date();
  const total = (job.report?.inserted ?? 0) + (job.report?.updated ?? 0);
  await ImportJob.collection.updateOne(
    { _id: job._id },
    {
      $set: {
        status: 'reverting',
        revert_attempt: attempt,
        revert_async: async,
        revert_total_rows: total,
        reverted_by: new ObjectId(actor.id),
        revert_heartbeat_at: now,
        updated_at: now,
      },
      $unset: { revert_error: '' },
    },
  );
  const started = await ImportJob.findById(job._id).lean<StoredJob>();
  if (!started) throw AppError.notFound('Import job');
  return started;
}

export type RevertOutcome =
  | { status: 200; result: { message: string; job_id: string; deleted: number; restored: number; conflicts: number } }
  | { status: 202; job: JobView };

/**
 * Undoes an import: deletes the rows it created and puts back the before-images of the rows it updated, but
 * only where the row still carries the import's own `updated_at`; rows changed since, and created rows that
 * have interactions or tickets now, are reported (409) and left alone, the rest reverted. `async`: 202 with
 * the job at once, the revert running on; its progress and outcome are in the job.
 */
export async function revertJob(id: string, principal: Principal, options: { async: boolean } = { async: false }): Promise<RevertOutcome> {
  const job = await findJob(id, principal);
  const attempt = await claimRevert(job);
  const started = await startAttempt(job, attempt, principal, options.async);
  const done = new RevertExecution(started, attempt, principal).run();
  if (options.async) {
    done.catch(() => undefined);
    return { status: 202, job: jobView(started) };
  }
  const { deleted, restored, conflicts, details } = await done;
  if (conflicts > 0) {
    throw AppError.conflict(
      `${conflicts} row(s) changed since the import were left as they are; the other rows were reverted (deleted ${deleted}, restored ${restored})`,
      details,
      'REVERT_CONFLICT',
    );
  }
  return { status: 200, result: { message: 'Import reverted', job_id: id, deleted, restored, conflicts } };
}
