import { healthResponse, readinessResponse } from '../schemas/ops.schema';
import { errorResponses, registry } from './registry';

registry.registerPath({
  method: 'get',
  path: '/healthz',
  tags: ['operations'],
  summary: 'Liveness: the process is up',
  description: 'Never touches the database and is never rate limited.',
  responses: {
    200: { description: 'Alive', content: { 'application/json': { schema: healthResponse } } },
  },
});

registry.registerPath({
  method: 'get',
  path: '/readyz',
  tags: ['operations'],
  summary: 'Readiness: the database answers and start-up (indexes, bootstrap) is done',
  description: 'Also says which database engine features were detected at start (transactions, change streams, TTL indexes).',
  responses: {
    200: { description: 'Ready to serve', content: { 'application/json': { schema: readinessResponse } } },
    ...errorResponses(503),
  },
});

registry.registerPath({
  method: 'get',
  path: '/openapi.yaml',
  tags: ['operations'],
  summary: 'This OpenAPI document',
  responses: {
    200: { description: 'OpenAPI 3.1 document (YAML)', content: { 'application/yaml': { schema: { type: 'object' } } } },
  },
});

registry.registerPath({
  method: 'get',
  path: '/docs',
  tags: ['operations'],
  summary: 'Interactive API documentation (Swagger UI)',
  responses: {
    200: { description: 'HTML page', content: { 'text/html': { schema: { type: 'string' } } } },
  },
});
