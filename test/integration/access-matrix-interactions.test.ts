import { beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { Interaction } from '../../src/models/interaction.model';
import { Ticket } from '../../src/models/ticket.model';
import { buildOpenApiDocument } from '../../src/openapi/document';
import { apiRoutes } from '../../src/routes/api';
import { buildTestApp } from '../helpers/app';
import { createActors, type Actors } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';
import { insertInteraction, insertTicket } from '../factories/interaction';

// SPEC §3 as data: every interaction and ticket route × every kind of caller. 401 without a token; 403 when the
// role lacks the permission outright; 404 when it has it but the object is not theirs. Each case starts from a
// fresh interaction (owned by `user`, with `customer`) carrying a ticket the customer raised (assigned to `user`).

useTestDatabase();
const app = buildTestApp();
let actors: Actors;

beforeAll(async () => {
  actors = await createActors(app);
});

const principals = ['anonymous', 'admin', 'manager', 'user', 'otherUser', 'customer', 'otherCustomer'] as const;
type Who = (typeof principals)[number];

interface Fixture {
  interaction: string;
  ticket: string;
  customer: string;
  user: string;
}

interface Route {
  method: 'get' | 'post' | 'patch' | 'delete';
  path: (f: Fixture) => string;
  body?: (f: Fixture) => Record<string, unknown>;
  /** Expected status per principal, in the order of `principals`. */
  statuses: [number, number, number, number, number, number, number];
  /** For lists: who finds the fixture's row in the answer (everyone else gets a list without it). */
  sees?: Who[];
}

const matrix: Route[] = [
  // interactions                                            anon admin mgr  user other cust otherCust
  { method: 'get', path: () => '/users/meetings', statuses: [401, 200, 200, 200, 200, 200, 200], sees: ['user', 'customer'] },
  { method: 'post', path: (f) => `/users/meetings/${f.customer}`, body: () => ({}), statuses: [401, 201, 201, 201, 201, 403, 403] },
  {
    method: 'get',
    path: () => '/interactions',
    statuses: [401, 200, 200, 200, 200, 200, 200],
    sees: ['admin', 'manager', 'user', 'customer'],
  },
  {
    method: 'post',
    path: () => '/interactions',
    body: (f) => ({ customer_id: f.customer, type: 'call' }),
    statuses: [401, 201, 201, 201, 201, 403, 403],
  },
  {
    method: 'get',
    path: (f) => `/interactions/user/${f.user}`,
    statuses: [401, 200, 200, 200, 404, 404, 404],
    sees: ['admin', 'manager', 'user'],
  },
  {
    method: 'get',
    path: (f) => `/interactions/user/${f.customer}`,
    statuses: [401, 200, 200, 200, 200, 200, 404],
    sees: ['admin', 'manager', 'user', 'customer'],
  },
  {
    method: 'get',
    path: (f) => `/interactions/customer/${f.customer}`,
    statuses: [401, 200, 200, 200, 200, 200, 404],
    sees: ['admin', 'manager', 'user', 'customer'],
  },
  { method: 'get', path: (f) => `/interactions/${f.interaction}`, statuses: [401, 200, 200, 200, 404, 200, 404] },
  {
    method: 'patch',
    path: (f) => `/interactions/${f.interaction}`,
    body: () => ({ title: 'changed' }),
    statuses: [401, 200, 200, 200, 404, 403, 403],
  },
  { method: 'delete', path: (f) => `/interactions/${f.interaction}?cascade=true`, statuses: [401, 200, 200, 200, 404, 403, 403] },
  // tickets
  {
    method: 'get',
    path: () => '/customers/tickets',
    statuses: [401, 200, 200, 200, 200, 200, 200],
    sees: ['admin', 'manager', 'user', 'customer'],
  },
  { method: 'get', path: (f) => `/customers/tickets/${f.ticket}`, statuses: [401, 200, 200, 200, 404, 200, 404] },
  {
    method: 'post',
    path: (f) => `/customers/ticket/${f.interaction}`,
    body: () => ({ title: 'Help' }),
    statuses: [401, 201, 201, 201, 404, 201, 404],
  },
  {
    method: 'patch',
    path: (f) => `/customers/ticket/${f.ticket}`,
    body: () => ({ title: 'changed' }),
    statuses: [401, 200, 200, 200, 404, 200, 404],
  },
  {
    method: 'patch',
    path: (f) => `/customers/ticket/${f.ticket}`,
    body: () => ({ status: 'in_progress' }),
    statuses: [401, 200, 200, 200, 404, 403, 404],
  },
  { method: 'delete', path: (f) => `/customers/ticket/${f.ticket}`, statuses: [401, 200, 200, 403, 403, 200, 404] },
];

const names: Fixture = { interaction: ':interaction_id', ticket: ':ticket_id', customer: ':cust_id', user: ':user_id' };
const describeRoute = (route: Route) =>
  `${route.method.toUpperCase()} ${route.path(names)}${route.body ? ` ${JSON.stringify(route.body(names))}` : ''}`;
const cases = matrix.flatMap((route) =>
  principals.map((who, index) => ({ route, who, status: route.statuses[index] ?? 0, label: describeRoute(route) })),
);

async function freshFixture(): Promise<Fixture> {
  const interaction = await insertInteraction({ customer: actors.customer.id, user: actors.user.id });
  const ticket = await insertTicket(interaction._id.toHexString(), { type: 'customer', id: actors.customer.id, role: 'CUSTOMER' });
  return {
    interaction: interaction._id.toHexString(),
    ticket: ticket._id.toHexString(),
    customer: actors.customer.id,
    user: actors.user.id,
  };
}

/** What a refused request must leave untouched. */
async function snapshot(f: Fixture) {
  const [interaction, ticket, interactions, tickets] = await Promise.all([
    Interaction.findById(f.interaction).lean(),
    Ticket.findById(f.ticket).lean(),
    Interaction.countDocuments(),
    Ticket.countDocuments(),
  ]);
  return { interaction, ticket, interactions, tickets };
}

describe('access matrix: interactions and tickets', () => {
  it('covers every interaction and ticket route in openapi.yaml, for every principal', () => {
    const placeholders: Fixture = { interaction: ':id', ticket: ':id', customer: ':id', user: ':id' };
    const inMatrix = new Set(matrix.map((route) => `${route.method} ${route.path(placeholders).split('?')[0]}`));
    const documented = new Set(
      Object.entries(buildOpenApiDocument(apiRoutes).paths ?? {}).flatMap(([path, item]) =>
        (['get', 'post', 'patch', 'delete'] as const)
          .filter((method) => item[method]?.tags?.some((tag) => tag === 'interactions' || tag === 'tickets'))
          .map((method) => `${method} ${path.replace(/\{[^}]+\}/g, ':id')}`),
      ),
    );
    expect(inMatrix).toEqual(documented);
    expect(cases).toHaveLength(matrix.length * principals.length);
  });

  it.each(cases)('$label as $who → $status', async ({ route, who, status }) => {
    const fixture = await freshFixture();
    const before = await snapshot(fixture);
    let req = request(app)[route.method](route.path(fixture));
    if (who !== 'anonymous') req = req.set(actors[who].headers);
    const res = route.body ? await req.send(route.body(fixture)) : await req;

    expect({ who, status: res.status }).toEqual({ who, status });
    if (status >= 400) {
      expect(res.body.code).toEqual(expect.any(String));
      expect(await snapshot(fixture)).toEqual(before);
    }
    if (route.sees && status === 200) {
      const found = (res.body as { id: string }[]).some((row) => row.id === fixture.interaction || row.id === fixture.ticket);
      expect({ who, found }).toEqual({ who, found: route.sees.includes(who) });
    }
  });
});
