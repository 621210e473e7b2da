import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { parse } from 'yaml';
import { openApiYaml } from '../../src/openapi/document';
import { apiRoutes } from '../../src/routes/api';
import { buildTestApp } from '../helpers/app';
import { useTestDatabase } from '../helpers/db';

useTestDatabase();
const app = buildTestApp();

describe('GET /healthz', () => {
  it('answers 200 with the process status', async () => {
    const res = await request(app).get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', uptime_seconds: expect.any(Number) });
  });
});

describe('GET /readyz', () => {
  it('answers 200 when the database answers and start-up is done, naming the engine and its features', async () => {
    const res = await request(app).get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: 'ready',
      checks: { database: 'up', setup: 'done' },
      engine: {
        name: expect.stringMatching(/^(mongodb|ferretdb|secantusdb)$/),
        version: expect.any(String),
        topology: expect.stringMatching(/^(replica-set|sharded|standalone)$/),
        transactions: expect.any(Boolean),
        change_streams: expect.any(Boolean),
        ttl_indexes: expect.any(Boolean),
      },
    });
  });
});

describe('GET /openapi.yaml', () => {
  it('serves an OpenAPI 3.1 document identical to the committed openapi.yaml', async () => {
    const res = await request(app).get('/openapi.yaml');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/yaml/);
    const committed = readFileSync(path.resolve(__dirname, '../../openapi.yaml'), 'utf8');
    // Stale file? Run `npm run openapi`.
    expect(res.text).toBe(committed);
    const document = parse(res.text);
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.components.securitySchemes).sort()).toEqual(['apiKey', 'bearer', 'token']);
    expect(document.components.schemas.Error.required).toEqual(['error', 'code', 'details']);
    expect(res.text).toBe(openApiYaml(apiRoutes));
  });
});

describe('GET /docs', () => {
  it('serves the interactive documentation pointing at /openapi.yaml', async () => {
    const page = await request(app).get('/docs/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    const init = await request(app).get('/docs/swagger-ui-init.js');
    expect(init.status).toBe(200);
    expect(init.text).toContain('/openapi.yaml');
    const bundle = await request(app).get('/docs/swagger-ui-bundle.js');
    expect(bundle.status).toBe(200);
  });

  it('redirects /docs to /docs/', async () => {
    const res = await request(app).get('/docs');
    expect([301, 302, 308]).toContain(res.status);
    expect(res.headers.location).toBe('/docs/');
  });
});
