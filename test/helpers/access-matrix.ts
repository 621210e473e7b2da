import { describe, expect, it } from '@jest/globals';
import type { Express } from 'express';
import request from 'supertest';
import type { Actor, Actors } from './auth';

export const principalNames = ['anonymous', 'admin', 'manager', 'user', 'otherUser', 'customer', 'otherCustomer'] as const;
export type PrincipalName = (typeof principalNames)[number];

/** One attempt as it is sent: the concrete path and body. */
export interface Attempt {
  path: string;
  body: object | undefined;
}

export interface AccessCase {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** The route as documented, e.g. "GET /users/:user_id (the USER's record)". */
  route: string;
  /** Builds the concrete path (and may create a fresh target) for one principal's attempt. */
  path: (actors: Actors, as: PrincipalName) => string | Promise<string>;
  body?: (actors: Actors, as: PrincipalName) => object | Promise<object>;
  expect: Record<PrincipalName, number>;
  /**
   * Required for every write that refuses someone: reads the data the route could change for this attempt
   * (its target record, the collection it adds to). A refused attempt must leave it exactly as it was.
   */
  state?: (actors: Actors, attempt: Attempt) => Promise<unknown>;
}

function headersFor(actors: Actors, as: PrincipalName): Record<string, string> {
  if (as === 'anonymous') return {};
  const actor: Actor = actors[as];
  return actor.headers;
}

/**
 * One table, one loop: every route × every kind of caller → the expected status. A refusal answers the
 * error body, and a refused write leaves the data it targets unchanged.
 */
export function runAccessMatrix(title: string, app: Express, getActors: () => Actors, cases: AccessCase[]): void {
  describe(title, () => {
    it('declares, for every write that refuses someone, the state a refusal must leave unchanged', () => {
      const refusingWrites = cases.filter((c) => c.method !== 'get' && Object.values(c.expect).some((status) => status >= 400));
      expect(refusingWrites.filter((c) => !c.state).map((c) => c.route)).toEqual([]);
    });

    for (const c of cases) {
      for (const as of principalNames) {
        it(`${c.route} as ${as} → ${c.expect[as]}`, async () => {
          const actors = getActors();
          const attempt: Attempt = { path: await c.path(actors, as), body: c.body ? await c.body(actors, as) : undefined };
          const before = await c.state?.(actors, attempt);
          let req = request(app)[c.method](attempt.path).set(headersFor(actors, as));
          if (attempt.body) req = req.send(attempt.body);
          const res = await req;
          expect({ route: c.route, as, status: res.status }).toEqual({ route: c.route, as, status: c.expect[as] });
          if (res.status >= 400) {
            expect(res.body).toEqual({ error: expect.any(String), code: expect.any(String), details: expect.any(Array) });
            if (c.state)
              expect({ route: c.route, as, state: await c.state(actors, attempt) }).toEqual({ route: c.route, as, state: before });
          }
        });
      }
    }
  });
}

/** Shorthand for the common shapes of a row. */
export function statuses(
  anonymous: number,
  admin: number,
  manager: number,
  user: number,
  otherUser: number,
  customer: number,
  otherCustomer: number,
) {
  return { anonymous, admin, manager, user, otherUser, customer, otherCustomer };
}
