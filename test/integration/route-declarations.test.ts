import { describe, expect, it } from '@jest/globals';
import type { Express, RequestHandler } from 'express';
import request from 'supertest';
import { parse } from 'yaml';
import { apiRoutes } from '../../src/routes/api';
import { route } from '../../src/routes/route';
import { buildTestApp } from '../helpers/app';
import { useTestDatabase } from '../helpers/db';

// Each route is declared once (src/routes/*.routes.ts); the Express routers, openapi.yaml and the 405 table
// all come from that declaration. These tests read the first two back from a built app and check they agree,
// and that a route declared once is routed, documented and allowed without being written anywhere else.

useTestDatabase();
const app = buildTestApp();

const methods = ['get', 'post', 'put', 'patch', 'delete'] as const;
const id = 'a'.repeat(24);

interface Layer {
  route?: { path: string; stack: { method: string }[] };
  handle: unknown;
  rawPath?: unknown;
}

/** A router's layers; for the API's dispatch middleware (routes grouped by first segment), its routers' layers. */
function layersOf(handle: unknown): Layer[] {
  if (typeof handle !== 'function') return [];
  if ('routers' in handle && Array.isArray(handle.routers)) return handle.routers.flatMap(layersOf);
  if (!('stack' in handle) || !Array.isArray(handle.stack)) return [];
  return handle.stack;
}

/** "METHOD /path" for every route Express will run, nested routers included; a prefix mount counts as its GET. */
function servedOperations(handle: unknown): string[] {
  const found = layersOf(handle).flatMap((layer): string[] => {
    const { route: expressRoute } = layer;
    if (expressRoute) return expressRoute.stack.map((step) => `${step.method.toUpperCase()} ${expressRoute.path}`);
    if (layersOf(layer.handle).length > 0) return servedOperations(layer.handle);
    return typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? [`GET ${layer.rawPath}`] : [];
  });
  return [...new Set(found)].sort();
}

/** "METHOD /path" with every parameter's name blanked (`/users/:`): the document may name a parameter otherwise. */
const shapeOf = (operation: string) => operation.replace(/:\w+/g, ':');

async function documentOf(target: Express) {
  const res = await request(target).get('/openapi.yaml');
  expect(res.status).toBe(200);
  const paths: Record<string, Record<string, { summary: string }>> = parse(res.text).paths;
  return Object.entries(paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({
      operation: `${method.toUpperCase()} ${path.replace(/\{\w+\}/g, ':')}`,
      summary: op.summary,
    })),
  );
}

describe('routes and openapi.yaml', () => {
  it('documents every route Express serves, and serves every documented operation', async () => {
    const documented = await documentOf(app);
    const served = servedOperations(app.router).map(shapeOf);
    expect(served.length).toBeGreaterThan(40);
    expect(served.filter((operation) => !documented.some((d) => d.operation === operation))).toEqual([]);
    // Only the curl --data aliases have no route of their own: the rewrite serves them as their GET.
    const aliases = documented.filter((d) => !served.includes(d.operation));
    expect(aliases.map((d) => d.operation).sort()).toEqual(['POST /users', 'POST /users/:']);
    for (const alias of aliases) {
      expect(alias.summary).toMatch(/^Same as GET /);
      expect(served).toContain(alias.operation.replace(/^POST/, 'GET'));
    }
  });

  it('answers 405 with Allow for every method a documented path lacks, and routes every method it has', async () => {
    const documented = await documentOf(app);
    const byUrl = new Map<string, Set<string>>();
    for (const { operation } of documented) {
      const [method = '', path = ''] = operation.split(' ');
      const url = path.replace(/:/g, id);
      byUrl.set(url, new Set([...(byUrl.get(url) ?? []), method]));
    }
    const outcomes: string[] = [];
    const expected: string[] = [];
    for (const [url, declared] of byUrl) {
      const allow = [...declared, ...(declared.has('GET') ? ['HEAD'] : [])].sort().join(', ');
      for (const verb of methods) {
        const method = verb.toUpperCase();
        const res = await request(app)[verb](url);
        const routeMissing = res.status === 404 && typeof res.body.error === 'string' && res.body.error.startsWith('Route ');
        if (declared.has(method)) {
          outcomes.push(`${method} ${url}: ${res.status === 405 || routeMissing ? 'not routed' : 'routed'}`);
          expected.push(`${method} ${url}: routed`);
        } else {
          outcomes.push(`${method} ${url}: ${res.status} ${res.headers.allow?.split(', ').sort().join(', ')}`);
          expected.push(`${method} ${url}: 405 ${allow}`);
        }
      }
    }
    expect(outcomes).toEqual(expected);
  });
});

const answer =
  (name: string): RequestHandler =>
  (_req, res) => {
    res.json({ route: name });
  };

const probe = (method: 'get' | 'put', path: string, name: string) =>
  route({
    method,
    path,
    operationId: `probe${method}${name}`,
    auth: 'public',
    handler: answer(name),
    tags: ['probes'],
    summary: `Probe ${name}`,
    responses: { 200: { description: 'The probe' } },
  });

describe('a route declared once', () => {
  it('is routed, documented and allowed: no second list to forget', async () => {
    const extended = buildTestApp({ routes: [...apiRoutes, probe('put', '/customers/:cust_id/activity', 'added')] });

    const res = await request(extended).put(`/customers/${id}/activity`).send({});
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ route: 'added' });
    expect((await documentOf(extended)).map((d) => d.operation)).toContain('PUT /customers/:/activity');
    const refused = await request(extended).post(`/customers/${id}/activity`).send({});
    expect(refused.status).toBe(405);
    expect(refused.headers.allow?.split(', ').sort()).toEqual(['GET', 'HEAD', 'PUT']);
  });

  it('with a literal path wins over a parameter declared before it', async () => {
    const probes = buildTestApp({ routes: [probe('get', '/probes/:probe_id', 'parameter'), probe('get', '/probes/latest', 'literal')] });
    expect((await request(probes).get('/probes/latest')).body).toEqual({ route: 'literal' });
    expect((await request(probes).get('/probes/other')).body).toEqual({ route: 'parameter' });
  });

  it('is found by its first segment in any case, as Express matches paths', async () => {
    const probes = buildTestApp({ routes: [probe('get', '/probes/:probe_id', 'parameter'), probe('get', '/probes/latest', 'literal')] });
    expect((await request(probes).get('/PROBES/Latest')).body).toEqual({ route: 'literal' });
    expect((await request(probes).get('/Probes/other')).body).toEqual({ route: 'parameter' });
    expect((await request(probes).get('/probes')).status).toBe(404);
    expect((await request(probes).get('/elsewhere/latest')).status).toBe(404);
  });

  it('is tried by its second segment, literal before parameter, falling through to the parameter routes', async () => {
    const probes = buildTestApp({
      routes: [
        probe('get', '/probes/:probe_id', 'parameter'),
        probe('get', '/probes/:probe_id/history', 'history'),
        probe('put', '/probes/latest', 'putLatest'),
        probe('get', '/probes/recent/:part', 'recentPart'),
        probe('get', '/probes', 'list'),
      ],
    });
    expect((await request(probes).get('/probes')).body).toEqual({ route: 'list' });
    expect((await request(probes).get('/probes/')).body).toEqual({ route: 'list' });
    expect((await request(probes).put('/probes/LATEST').send({})).body).toEqual({ route: 'putLatest' });
    expect((await request(probes).get('/probes/recent/history')).body).toEqual({ route: 'recentPart' });
    expect((await request(probes).get('/probes/other/history')).body).toEqual({ route: 'history' });
    // No route of the literal "recent" matches /probes/recent itself: the parameter route takes it, as one router
    // trying every route in turn would.
    expect((await request(probes).get('/probes/Recent')).body).toEqual({ route: 'parameter' });
    expect((await request(probes).get('/probes/recent/a/b')).status).toBe(404);
    expect((await request(probes).get('/probes/other/else')).status).toBe(404);
  });

  it('must start with a literal segment', () => {
    expect(() => buildTestApp({ routes: [probe('get', '/:area/latest', 'anyArea')] })).toThrow('must start with a literal segment');
  });
});
