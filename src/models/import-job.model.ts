import mongoose, { type InferSchemaType, type Types } from 'mongoose';
import { timestamps } from './timestamps';

export const importJobStatuses = ['running', 'completed', 'failed', 'reverting', 'reverted'] as const;
export const importModes = ['upsert', 'insert', 'skip'] as const;
export type ImportMode = (typeof importModes)[number];
export const importFormats = ['csv', 'json', 'ndjson'] as const;
export type ImportFormat = (typeof importFormats)[number];

const reportSchema = new mongoose.Schema(
  {
    total: { type: Number, default: 0 },
    inserted: { type: Number, default: 0 },
    updated: { type: Number, default: 0 },
    skipped: { type: Number, default: 0 },
    failed: { type: Number, default: 0 },
    errors: { type: [{ _id: false, row: Number, field: String, message: String }], default: [] },
    unknown_columns: { type: [String], default: [] },
    ignored_columns: { type: [String], default: [] },
  },
  { _id: false, suppressReservedKeysWarning: true },
);

/** Every import, synchronous or not, is one job: its options, progress and final report. */
const importJobSchema = new mongoose.Schema(
  {
    created_by: { type: mongoose.Schema.Types.ObjectId, required: true },
    status: { type: String, required: true, enum: importJobStatuses },
    mode: { type: String, required: true, enum: importModes },
    format: { type: String, enum: importFormats },
    dry_run: { type: Boolean, default: false },
    atomic: { type: Boolean, default: false },
    async: { type: Boolean, default: false },
    /** False for a dry run, and for an atomic import refused because a row failed: nothing was written. */
    applied: { type: Boolean, default: false },
    rows_processed: { type: Number, default: 0 },
    /** Known once the whole file has been read (async and atomic imports read it first). */
    total_rows: { type: Number },
    report: { type: reportSchema, default: () => ({}) },
    /** Why a job failed (malformed file, size limit, restart). */
    error: { type: { _id: false, status: Number, code: String, message: String } },
    heartbeat_at: { type: Date, required: true },
    finished_at: { type: Date },
    reverted_at: { type: Date },
    /** The revert's progress, saved after every batch (customer-import/revert-job.ts). */
    revert_report: {
      type: {
        _id: false,
        deleted: Number,
        restored: Number,
        conflicts: Number,
        rows_processed: Number,
        details: { type: [{ _id: false, location: String, field: String, message: String }], default: undefined },
      },
    },
    /** Rows a revert has to go through: the import's inserted + updated. */
    revert_total_rows: { type: Number },
    revert_async: { type: Boolean },
    reverted_by: { type: mongoose.Schema.Types.ObjectId },
    /** Attempt number of the revert in progress (each is claimed in import_job_claims), and its heartbeat. */
    revert_attempt: { type: Number },
    revert_heartbeat_at: { type: Date },
    /** The last change record a revert has finished: a resumed revert starts after it. */
    revert_checkpoint: { type: mongoose.Schema.Types.ObjectId },
    /** Why a revert stopped (process died, database error); the next revert request resumes it. */
    revert_error: { type: { _id: false, status: Number, code: String, message: String } },
  },
  { collection: 'import_jobs', timestamps, versionKey: false },
);
importJobSchema.index({ status: 1, heartbeat_at: 1 });
importJobSchema.index({ created_by: 1, created_at: 1 });

export type ImportJobFields = InferSchemaType<typeof importJobSchema>;
export type ImportJobRecord = ImportJobFields & { _id: Types.ObjectId };
export const ImportJob = mongoose.model('ImportJob', importJobSchema);

/**
 * Rows an import created (one record per batch) or changed (one per row), written before the change itself so that a revert finds it even
 * after a crash. `before` is the previous value of every field the import may change; `written_at` is the
 * `updated_at` the import gave the row, which tells a revert whether the row has been changed since.
 */
const importChangeSchema = new mongoose.Schema(
  {
    job: { type: mongoose.Schema.Types.ObjectId, required: true },
    /** An updated row: one record each, with its before-image. */
    customer: { type: mongoose.Schema.Types.ObjectId },
    row: { type: Number },
    /** Created rows: one record per batch. */
    customers: { type: [mongoose.Schema.Types.ObjectId], default: undefined },
    rows: { type: [Number], default: undefined },
    action: { type: String, required: true, enum: ['created', 'updated'] },
    written_at: { type: Date, required: true },
    before: { type: mongoose.Schema.Types.Mixed },
    /** An updated row: the names of the fields the import changed (the revert's activity entry lists them). */
    fields: { type: [String], default: undefined },
  },
  { collection: 'import_job_changes', versionKey: false },
);
importChangeSchema.index({ job: 1, _id: 1 });

export const ImportChange = mongoose.model('ImportChange', importChangeSchema);

/** Claims (unique `_id`), the only race-free lock on FerretDB: one attempt at a time per job's revert. */
const importClaimSchema = new mongoose.Schema({ _id: String, at: Date }, { collection: 'import_job_claims', versionKey: false });
export const ImportClaim = mongoose.model('ImportClaim', importClaimSchema);
