import { Router } from 'express';
import swaggerUi from 'swagger-ui-express';
import * as ops from '../controllers/ops.controller';
import { AppError } from '../utils/app-error';

// Health, readiness and documentation: no authentication, no database (but /readyz's ping), no rate limit.
export const opsRouter = Router();

opsRouter.get('/healthz', ops.healthz);
opsRouter.get('/readyz', ops.readyz);
opsRouter.get('/openapi.yaml', ops.openapi);
opsRouter.use('/docs', (req, res, next) => {
  // The static documentation answers GET and HEAD only.
  if (req.method === 'GET' || req.method === 'HEAD') return next();
  res.setHeader('Allow', 'GET, HEAD');
  throw new AppError(405, 'METHOD_NOT_ALLOWED', `Method ${req.method} is not allowed on ${req.originalUrl.split('?', 1)[0]}`);
});
opsRouter.use(
  '/docs',
  swaggerUi.serveFiles(undefined, { swaggerOptions: { url: '/openapi.yaml' } }),
  swaggerUi.setup(undefined, { swaggerOptions: { url: '/openapi.yaml' }, customSiteTitle: 'CRM API docs' }),
);
