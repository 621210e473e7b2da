import { z } from 'zod';
import { exportCustomers } from '../controllers/export.controller';
import * as imports from '../controllers/import.controller';
import { commonErrors, errorResponses, ok } from '../openapi/registry';
import { exportCustomers as exportSchema } from '../schemas/export.schema';
import * as schemas from '../schemas/import.schema';
import { route } from './route';

/**
 * Import and export (SPEC §5). No shared body parser: the import reads its body as a stream. `data` is the
 * stricter data rate limit; polling a job's status is not counted against it. The import alone may take
 * longer than BODY_TIMEOUT_MS to upload, once its caller is known to be allowed.
 */
const tags = ['import/export'];
const csvText = z.string().meta({ description: 'CSV with a header row; columns matched case-insensitively with aliases' });
// What an import file must hold at least (an empty file, or a header without rows, answers 400): a header line
// and a data row after it; one JSON object, or one NDJSON line.
const csvFile = csvText.meta({
  description: 'CSV: a header row, then at least one data row; columns matched case-insensitively with aliases',
  pattern: '\\S[^\\r\\n]*\\r?\\n[\\s\\S]*\\S',
});

export const importExportRoutes = [
  route({
    method: 'get',
    path: '/export/customer_data',
    operationId: 'exportCustomers',
    permissions: ['data:export'],
    rateLimit: 'data',
    parseBody: false,
    request: exportSchema,
    handler: exportCustomers,
    tags,
    summary: 'Export customers as CSV, JSON or NDJSON (ADMIN, MANAGER)',
    description:
      'Streamed from a database cursor (constant memory), ordered by id, with the list filters of `GET /customers`. ' +
      'The format comes from `format`, else from `Accept`, else CSV. `Content-Disposition: attachment; filename="customers-YYYY-MM-DD.<format>"`. ' +
      'No password hash or other secret is exported. CSV cells starting with `=`, `+`, `-`, `@`, tab or CR get a leading apostrophe (an import takes it off again). ' +
      'CSV columns: id, name, email, company, phone, status, owner_id, tags (`a; b`), address_street, address_city, address_state, address_postal_code, address_country, created_at, updated_at. ' +
      'Counted against the data rate limit (DATA_RATE_LIMIT_*).',
    responses: {
      200: {
        description: 'The export file',
        headers: { 'Content-Disposition': { description: 'attachment with a dated file name', schema: { type: 'string' } } },
        content: {
          'text/csv': { schema: csvText },
          'application/json': { schema: z.array(schemas.exportRow) },
          'application/x-ndjson': { schema: z.string().meta({ description: 'One CustomerExportRow JSON object per line' }) },
        },
      },
      ...errorResponses(400, 401, 403, 406, 503, ...commonErrors),
    },
  }),
  route({
    method: 'post',
    path: '/import/customer_data',
    operationId: 'importCustomers',
    permissions: ['data:import'],
    rateLimit: 'data',
    parseBody: false,
    slowBody: true,
    request: schemas.importCustomers,
    handler: { build: ({ importMaxBytes }) => imports.importCustomers(importMaxBytes) },
    tags,
    summary: 'Import customers from CSV, JSON or NDJSON (ADMIN, MANAGER)',
    description:
      'The file is a multipart field `file` (format from its extension or type) or the raw body (`text/csv`, `application/json` array, `application/x-ndjson`). ' +
      'It is parsed while it uploads and written in batches (IMPORT_BATCH_SIZE). Headers/keys are matched case-insensitively with aliases ' +
      '(`Name`/`full_name`, `Email`/`e-mail`, `street`/`address_street`, …); unknown columns are reported once and ignored; password columns are ignored. ' +
      'Each row is validated like `POST /customers`; e-mails are normalised; a repeated e-mail in the file fails the later row. ' +
      'An empty cell clears company, phone, tags, address or owner_id of an existing customer. In upsert mode the address is merged ' +
      'like a PATCH (JSON merge patch, RFC 7396): a file with only city/country columns keeps street, state and postal code; an empty ' +
      'address part cell clears that part, an empty `address` cell the whole address. ' +
      'Every applied import adds an `import_job` entry and one entry per created or updated customer (with `job_id`) to the activity trail. Rows equal to the stored customer are skipped, so re-importing a file changes nothing. ' +
      'Every import is recorded as a job (its id is in `X-Import-Job-Id`). Over IMPORT_MAX_BYTES → 413; malformed file → 400 naming the line/row; empty → 400; unsupported type → 415.',
    documentedBody: {
      required: true,
      content: {
        'text/csv': { schema: csvFile },
        'application/json': { schema: z.array(z.record(z.string(), z.unknown())).min(1) },
        'application/x-ndjson': { schema: z.string().meta({ description: 'One JSON object per line, at least one', pattern: '\\S' }) },
        'multipart/form-data': { schema: z.object({ file: z.string().meta({ format: 'binary' }) }) },
      },
    },
    responses: {
      200: ok('The import report (synchronous import)', schemas.importResult),
      202: ok('Accepted as a background job (async=true); poll GET /import/jobs/{job_id}', schemas.importAccepted),
      ...errorResponses(400, 401, 403, 413, 415, 503, ...commonErrors),
    },
  }),
  route({
    method: 'get',
    path: '/import/jobs/:job_id',
    operationId: 'getImportJob',
    permissions: ['data:import'],
    parseBody: false,
    request: schemas.getImportJob,
    handler: imports.getImportJob,
    tags,
    summary: 'Status, progress and report of an import job (its creator only)',
    description:
      'A job whose process died (restart, crash) is reported `failed` with its progress once its heartbeat is older than IMPORT_JOB_STALE_MS.',
    responses: {
      200: ok('The job', schemas.importJobResponse),
      ...errorResponses(400, 401, 403, 404, 503, ...commonErrors),
    },
  }),
  route({
    method: 'post',
    path: '/import/jobs/:job_id/revert',
    operationId: 'revertImportJob',
    permissions: ['data:import'],
    rateLimit: 'data',
    parseBody: false,
    request: schemas.revertImportJob,
    handler: imports.revertImportJob,
    tags,
    summary: 'Undo an import (its creator only)',
    description:
      'Deletes the customers the import created and restores the previous values of those it updated (before-images kept with the job). ' +
      'A row changed since the import, or a created customer that has interactions or tickets now, is left as it is and reported: ' +
      'the answer is then 409 REVERT_CONFLICT with one detail per such row, the other rows reverted. ' +
      '409 also for a running, dry-run or already reverted job, and for one whose revert is in progress (REVERT_RUNNING). ' +
      '`async=true` answers 202 with the job at once (status `reverting`); `GET /import/jobs/{job_id}` then shows `revert` progress ' +
      '(rows_processed of total_rows, counts, the conflicts) until the job is `reverted`. A revert whose process died (heartbeat older ' +
      'than IMPORT_JOB_STALE_MS) or that failed shows `revert.status: failed`; asking for it again resumes it after the last batch it finished. ' +
      'Every revert adds an `import_job` entry (action `revert`) and one entry per customer it deleted or restored to the activity trail.',
    responses: {
      200: ok('Reverted', schemas.revertResult),
      202: ok('Accepted as a background job (async=true); poll GET /import/jobs/{job_id}', schemas.revertAccepted),
      ...errorResponses(400, 401, 403, 404, 409, 503, ...commonErrors),
    },
  }),
];
