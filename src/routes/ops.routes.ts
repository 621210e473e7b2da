import swaggerUi from 'swagger-ui-express';
import * as ops from '../controllers/ops.controller';
import { errorResponses } from '../openapi/registry';
import { healthResponse, readinessResponse } from '../schemas/ops.schema';
import { route, type RouteSpec } from './route';

// Health, readiness and documentation: no authentication, no body, no database (but /readyz's ping), no rate
// limit (so an orchestrator is never locked out).
const operations = { auth: 'public', rateLimit: 'none', parseBody: false, tags: ['operations'] } satisfies Partial<RouteSpec>;
const docsPage = { swaggerOptions: { url: '/openapi.yaml' } };

export const opsRoutes = [
  route({
    ...operations,
    method: 'get',
    path: '/healthz',
    operationId: 'checkLiveness',
    handler: ops.healthz,
    summary: 'Liveness: the process is up',
    description: 'Never touches the database and is never rate limited.',
    responses: {
      200: { description: 'Alive', content: { 'application/json': { schema: healthResponse } } },
    },
  }),
  route({
    ...operations,
    method: 'get',
    path: '/readyz',
    operationId: 'checkReadiness',
    handler: ops.readyz,
    summary: 'Readiness: the database answers and start-up (indexes, bootstrap) is done',
    description: 'Also says which database engine features were detected at start (transactions, change streams, TTL indexes).',
    responses: {
      200: { description: 'Ready to serve', content: { 'application/json': { schema: readinessResponse } } },
      ...errorResponses(503),
    },
  }),
  route({
    ...operations,
    method: 'get',
    path: '/openapi.yaml',
    operationId: 'getOpenApiDocument',
    handler: { build: ({ openApiYaml }) => ops.openapi(openApiYaml) },
    summary: 'This OpenAPI document',
    responses: {
      200: { description: 'OpenAPI 3.1 document (YAML)', content: { 'application/yaml': { schema: { type: 'object' } } } },
    },
  }),
  route({
    ...operations,
    method: 'get',
    path: '/docs',
    operationId: 'getApiDocs',
    prefix: true,
    handler: [...swaggerUi.serveFiles(undefined, docsPage), swaggerUi.setup(undefined, { ...docsPage, customSiteTitle: 'CRM API docs' })],
    summary: 'Interactive API documentation (Swagger UI)',
    responses: {
      200: { description: 'HTML page', content: { 'text/html': { schema: { type: 'string' } } } },
    },
  }),
];
