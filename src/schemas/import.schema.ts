import { z } from 'zod';
import { importFormats, importJobStatuses, importModes } from '../models/import-job.model';
import { booleanQueryOff, objectId } from './common.schema';
import { publicCustomerShape } from './customer.schema';

export const importCustomers = {
  query: z
    .object({
      mode: z
        .enum(importModes)
        .default('upsert')
        .meta({ description: 'upsert (by e-mail, default), insert (existing e-mails fail), skip (existing e-mails skipped)' }),
      dry_run: booleanQueryOff.meta({ description: 'Validate and report without writing' }),
      atomic: booleanQueryOff.meta({ description: 'Validate every row first; write nothing if any fails' }),
      async: booleanQueryOff.meta({ description: 'Answer 202 with a job id once the upload is received' }),
    })
    .strict(),
};

export const jobParams = z.object({ job_id: objectId }).strict();
export const getImportJob = { params: jobParams };
export const revertImportJob = {
  params: jobParams,
  query: z
    .object({
      async: booleanQueryOff.meta({
        description: 'Answer 202 with the job at once; the revert runs on, its progress in GET /import/jobs/{job_id}',
      }),
    })
    .strict(),
};

const rowError = z.object({ row: z.number().int(), field: z.string(), message: z.string() }).strict().meta({ id: 'ImportRowError' });

export const importReport = z
  .object({
    total: z.number().int().meta({ description: 'Data rows read' }),
    inserted: z.number().int(),
    updated: z.number().int().meta({ description: 'Existing customers whose data changed' }),
    skipped: z.number().int().meta({ description: 'Rows equal to the stored customer, or existing e-mails with mode=skip' }),
    failed: z.number().int(),
    errors: z.array(rowError).meta({ description: 'The first IMPORT_MAX_ERRORS errors; `failed` is exact' }),
    unknown_columns: z.array(z.string()).meta({ description: 'Columns (keys) not understood, ignored' }),
    ignored_columns: z.array(z.string()).meta({ description: 'Password columns, always ignored' }),
  })
  .strict()
  .meta({ id: 'ImportReport' });

export const importJobResponse = z
  .object({
    id: objectId,
    status: z.enum(importJobStatuses),
    mode: z.enum(importModes),
    format: z.enum(importFormats).nullable(),
    dry_run: z.boolean(),
    atomic: z.boolean(),
    async: z.boolean(),
    applied: z.boolean().meta({ description: 'Whether rows were written (false for dry runs and refused atomic imports)' }),
    rows_processed: z.number().int(),
    total_rows: z.number().int().nullable().meta({ description: 'Known once the whole file has been read' }),
    report: importReport,
    error: z.object({ status: z.number().int(), code: z.string(), message: z.string() }).strict().nullable(),
    revert: z
      .object({
        status: z.enum(['running', 'completed', 'failed']).meta({
          description: 'failed: the revert stopped (process died, database error): POST the revert again to resume it where it stopped',
        }),
        async: z.boolean(),
        rows_processed: z.number().int().meta({ description: 'Rows of the import gone through so far' }),
        total_rows: z.number().int().nullable().meta({ description: 'Rows the import inserted or updated' }),
        deleted: z.number().int(),
        restored: z.number().int(),
        conflicts: z.number().int(),
        conflict_details: z
          .array(z.object({ location: z.string(), field: z.string(), message: z.string() }).strict())
          .meta({ description: 'The rows left as they are (first IMPORT_MAX_ERRORS), as a synchronous revert lists them in its 409' }),
        error: z.object({ status: z.number().int(), code: z.string(), message: z.string() }).strict().nullable(),
      })
      .strict()
      .nullable()
      .meta({ description: 'null until a revert is asked for' }),
    created_at: z.string().meta({ format: 'date-time' }),
    updated_at: z.string().meta({ format: 'date-time' }),
    finished_at: z.string().meta({ format: 'date-time' }).nullable(),
    reverted_at: z.string().meta({ format: 'date-time' }).nullable(),
  })
  .strict()
  .meta({ id: 'ImportJob' });

export const importResult = importReport
  .extend({ job_id: objectId, status: z.enum(importJobStatuses), dry_run: z.boolean(), atomic: z.boolean(), applied: z.boolean() })
  .meta({ id: 'ImportResult' });

export const importAccepted = z
  .object({ message: z.string(), job_id: objectId, status: z.enum(importJobStatuses), job: importJobResponse })
  .strict()
  .meta({ id: 'ImportAccepted' });

export const revertAccepted = z
  .object({ message: z.string(), job_id: objectId, status: z.enum(importJobStatuses), job: importJobResponse })
  .strict()
  .meta({ id: 'ImportRevertAccepted' });

export const revertResult = z
  .object({ message: z.string(), job_id: objectId, deleted: z.number().int(), restored: z.number().int(), conflicts: z.number().int() })
  .strict()
  .meta({ id: 'ImportReverted' });

/** Export rows: the id and the public customer fields (no `customer_id` alias, no secrets or internal fields). */
export const exportRow = z
  .object({ id: objectId, ...publicCustomerShape })
  .strict()
  .meta({ id: 'CustomerExportRow' });
