import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { buildOpenApiDocument, openApiYaml } from '../../src/openapi/document';
import { apiRoutes } from '../../src/routes/api';
import { route } from '../../src/routes/route';
import { isoDate } from '../../src/schemas/common.schema';
import * as customerSchemas from '../../src/schemas/customer.schema';

// What client generators and validators need of openapi.yaml beyond "it parses" (CI also runs
// openapi-spec-validator and `redocly lint` on the committed file).

interface Operation {
  operationId?: string;
  parameters?: { name: string; in: string; schema: { type?: string; enum?: unknown[]; default?: unknown } }[];
}
type PathItem = Partial<Record<'get' | 'put' | 'post' | 'delete' | 'patch', Operation>>;

const document: { paths: Record<string, PathItem> } = parse(openApiYaml(apiRoutes));
const paths = Object.entries(document.paths);
const operations = paths.flatMap(([path, item]) =>
  Object.entries(item).map(([method, operation]) => ({ label: `${method.toUpperCase()} ${path}`, operation })),
);

describe('openapi.yaml', () => {
  it('gives every operation a unique camelCase operationId', () => {
    expect(operations.length).toBeGreaterThan(40);
    expect(operations.filter(({ operation }) => !/^[a-z][a-zA-Z0-9]*$/.test(operation.operationId ?? ''))).toEqual([]);
    const ids = operations.map(({ operation }) => operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(operations.find(({ label }) => label === 'POST /users')?.operation.operationId).toBe('listUsersViaPost');
  });

  it('has no two path templates that differ only by parameter names', () => {
    const shapes = paths.map(([path]) => path.replace(/\{\w+\}/g, '{}'));
    expect(shapes.filter((shape, i) => shapes.indexOf(shape) !== i)).toEqual([]);
  });

  it("lists the original's ticket routes as one template whose id means an interaction for POST, a ticket otherwise", () => {
    const item = document.paths['/customers/ticket/{id}'];
    expect(Object.keys(item ?? {}).sort()).toEqual(['delete', 'patch', 'post']);
    const idOf = (operation: Operation | undefined) => operation?.parameters?.find((p) => p.in === 'path');
    expect(idOf(item?.post)).toMatchObject({ name: 'id', description: expect.stringMatching(/interaction/) });
    expect(idOf(item?.patch)).toMatchObject({ name: 'id', description: 'The ticket' });
    expect(idOf(item?.delete)).toMatchObject({ name: 'id', description: 'The ticket' });
  });

  it('gives parameter defaults of the parameter type (query flags default to the string "false")', () => {
    const parameters = operations.flatMap(({ label, operation }) => (operation.parameters ?? []).map((p) => ({ label, ...p })));
    const wrong = parameters.filter(({ schema }) => {
      if (schema.default === undefined) return false;
      const typed = schema.type === 'integer' ? Number.isInteger(schema.default) : typeof schema.default === schema.type;
      return !typed || (schema.enum !== undefined && !schema.enum.includes(schema.default));
    });
    expect(wrong).toEqual([]);
    const dryRun = parameters.find((p) => p.label === 'POST /import/customer_data' && p.name === 'dry_run');
    expect(dryRun?.schema).toMatchObject({ type: 'string', default: 'false' });
  });

  it('states security on every operation, an empty list on the public ones', () => {
    const security = (label: string) => operations.find((o) => o.label === label)?.operation;
    expect(operations.filter(({ operation }) => !('security' in operation))).toEqual([]);
    expect(security('GET /healthz')).toMatchObject({ security: [] });
    expect(security('GET /me')).toMatchObject({ security: [{ token: [] }, { bearer: [] }, { apiKey: [] }] });
  });
});

describe('a route declaration', () => {
  const declaration = {
    method: 'get' as const,
    path: '/probes/:probe_id',
    operationId: 'getProbe',
    auth: 'public' as const,
    handler: () => undefined,
    tags: ['probes'],
    summary: 'Probe',
    responses: { 200: { description: 'The probe' } },
  };

  it('refuses an operationId that is not camelCase', () => {
    expect(() => route({ ...declaration, operationId: 'get_probe' })).toThrow(/camelCase/);
  });

  it('refuses a documented path of another shape', () => {
    expect(() => route({ ...declaration, documentedPath: '/probes/:id/other' })).toThrow(/only by parameter names/);
  });

  it('refuses an operationId declared twice', () => {
    expect(() => buildOpenApiDocument([route(declaration), route({ ...declaration, path: '/probes' })])).toThrow(/declared twice/);
  });
});

describe('the documented string rules', () => {
  // What openapi.yaml admits must pass zod too (a client or fuzzer following the document is never refused).
  const samples = ['', ' ', '\t\n', ' a ', 'a', 'ram@gmail.com', 'RAM@Gmail.COM', 'a@b', 'a..b@c.io', '"a b"@c.io', 'x@-c.io'];
  const dates = ['2024-09-01', '2024-02-30', '2023-02-29', '2024-09-01T00:00:00Z', '2024-09-01T00:00:00', '2024-09-01t00:00:00z'];
  const dateTimes = ['2024-09-01T10:00:00.123+05:30', '2024-09-01T24:00:00Z', '2024-09-01 10:00:00Z', '٢٠٢٤-09-01'];

  function admitted(schema: { pattern?: string; minLength?: number; maxLength?: number }, value: string): boolean {
    if (schema.minLength !== undefined && [...value].length < schema.minLength) return false;
    if (schema.maxLength !== undefined && [...value].length > schema.maxLength) return false;
    return schema.pattern === undefined || new RegExp(schema.pattern, 'u').test(value);
  }

  it('admits only what zod accepts, for names, e-mails and dates', () => {
    const full: { components: { schemas: Record<string, { properties: Record<string, never> }> } } = parse(openApiYaml(apiRoutes));
    const customer = full.components.schemas.CustomerCreate?.properties ?? {};
    const interaction = full.components.schemas.InteractionCreate?.properties ?? {};
    const cases = [
      { doc: customer.name, zod: customerSchemas.createCustomer.body.shape.name, values: samples },
      { doc: customer.email, zod: customerSchemas.createCustomer.body.shape.email, values: samples },
      ...[0, 1].map((i) => ({ doc: interaction.scheduled_at?.['anyOf']?.[i], zod: isoDate, values: [...dates, ...dateTimes] })),
    ];
    for (const { doc, zod, values } of cases) {
      expect(doc).toBeDefined();
      const looser = values.filter((value) => admitted(doc ?? {}, value) && !zod.safeParse(value).success);
      expect(looser).toEqual([]);
      expect(values.filter((value) => admitted(doc ?? {}, value)).length).toBeGreaterThan(0);
    }
  });
});

describe('the documented body rules', () => {
  const { components } = parse(openApiYaml(apiRoutes));
  const schemas: Record<string, Record<string, unknown>> = components.schemas;

  it('says that an update changes at least one field', () => {
    for (const id of ['UserUpdate', 'CustomerUpdate', 'InteractionUpdate', 'TicketUpdate']) {
      expect({ id, minProperties: schemas[id]?.minProperties }).toEqual({ id, minProperties: 1 });
    }
  });

  it('says that a logout names a refresh token or asks for all sessions', () => {
    expect(schemas.LogoutRequest?.anyOf).toEqual([
      { required: ['refresh_token'] },
      { required: ['all'], properties: { all: { const: true } } },
    ]);
  });

  it("ties a new interaction's completed_at to status completed", () => {
    expect(schemas.InteractionCreate?.dependentSchemas).toEqual({
      completed_at: { required: ['status'], properties: { status: { const: 'completed' } } },
    });
  });
});
