import { Router, type RequestHandler } from 'express';
import { exportCustomers } from '../controllers/export.controller';
import * as imports from '../controllers/import.controller';
import { authenticate, authorize } from '../middleware/authenticate';
import { allowSlowBody } from '../middleware/body-deadline';
import { validate } from '../middleware/validate';
import { exportCustomers as exportSchema } from '../schemas/export.schema';
import * as schemas from '../schemas/import.schema';

/**
 * Import and export (SPEC §5). Mounted before the JSON body parser: the import reads its body as a
 * stream. `limit` is the stricter data rate limit; polling a job's status is not counted against it. The
 * import alone may take longer than BODY_TIMEOUT_MS to upload, once its caller is known to be allowed.
 */
export function importExportRoutes(limit: RequestHandler, maxBytes: number): Router {
  const router = Router();
  router.get('/export/customer_data', limit, authenticate, authorize('data:export'), validate(exportSchema), exportCustomers);
  router.post('/import/customer_data', limit, authenticate, authorize('data:import'), allowSlowBody, validate(schemas.importCustomers), imports.importCustomers(maxBytes));
  router.get('/import/jobs/:job_id', authenticate, authorize('data:import'), validate(schemas.getImportJob), imports.getImportJob);
  router.post('/import/jobs/:job_id/revert', limit, authenticate, authorize('data:import'), validate(schemas.revertImportJob), imports.revertImportJob);
  return router;
}
