import { Router } from 'express';
import swaggerUi from 'swagger-ui-express';
import * as ops from '../controllers/ops.controller';

// Health, readiness and documentation: no authentication, no database (but /readyz's ping), no rate limit.
export const opsRouter = Router();

opsRouter.get('/healthz', ops.healthz);
opsRouter.get('/readyz', ops.readyz);
opsRouter.get('/openapi.yaml', ops.openapi);
opsRouter.use(
  '/docs',
  swaggerUi.serveFiles(undefined, { swaggerOptions: { url: '/openapi.yaml' } }),
  swaggerUi.setup(undefined, { swaggerOptions: { url: '/openapi.yaml' }, customSiteTitle: 'CRM API docs' }),
);
