import type { Request, Response } from 'express';
import { parsedParams, parsedQuery } from '../middleware/validate';
import * as schemas from '../schemas/import.schema';
import { getJob, importUpload, openUpload, revertJob } from '../services/customer-import';
import { currentPrincipal } from '../middleware/authenticate';

/** The import handler, for files up to `maxBytes`. */
export const importCustomers = (maxBytes: number) =>
  async function importCustomerData(req: Request, res: Response) {
    const query = parsedQuery(res, schemas.importCustomers);
    const principal = currentPrincipal(res);
    const upload = await openUpload(req, req.headers, maxBytes);
    const options = { mode: query.mode, dryRun: query.dry_run, atomic: query.atomic, async: query.async };
    try {
      const outcome = await importUpload(upload, principal, options, (id) => res.setHeader('X-Import-Job-Id', id));
      const { job } = outcome;
      if (outcome.status === 202) {
        res.status(202).location(`/import/jobs/${job.id}`).json({ message: 'Import accepted', job_id: job.id, status: job.status, job });
        return;
      }
      res.json({ job_id: job.id, status: job.status, dry_run: job.dry_run, atomic: job.atomic, applied: job.applied, ...job.report });
    } finally {
      // Whatever happened, stop reading the upload so the answer reaches the client.
      if (!req.complete) {
        req.unpipe();
        req.resume();
      }
    }
  };

export async function getImportJob(_req: Request, res: Response) {
  res.json(await getJob(parsedParams(res, schemas.getImportJob).job_id, currentPrincipal(res)));
}

export async function revertImportJob(req: Request, res: Response) {
  req.resume();
  const { job_id: id } = parsedParams(res, schemas.revertImportJob);
  const { async } = parsedQuery(res, schemas.revertImportJob);
  const outcome = await revertJob(id, currentPrincipal(res), { async });
  if (outcome.status === 202) {
    const { job } = outcome;
    res.status(202).location(`/import/jobs/${job.id}`).json({ message: 'Revert accepted', job_id: job.id, status: job.status, job });
    return;
  }
  res.json(outcome.result);
}
