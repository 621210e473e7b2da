import { describe, expect, it } from '@jest/globals';
import type { Express } from 'express';
import request from 'supertest';
import type { Actor, Actors } from './auth';

export const principalNames = ['anonymous', 'admin', 'manager', 'user', 'otherUser', 'customer', 'otherCustomer'] as const;
export type PrincipalName = (typeof principalNames)[number];

export interface AccessCase {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** The route as documented, e.g. "GET /users/:user_id (the USER's record)". */
  route: string;
  /** Builds the concrete path (and may create a fresh target) for one principal's attempt. */
  path: (actors: Actors, as: PrincipalName) => string | Promise<string>;
  body?: (actors: Actors, as: PrincipalName) => object | Promise<object>;
  expect: Record<PrincipalName, number>;
}

function headersFor(actors: Actors, as: PrincipalName): Record<string, string> {
  if (as === 'anonymous') return {};
  const actor: Actor = actors[as];
  return actor.headers;
}

/** One table, one loop: every route × every kind of caller → the expected status. */
export function runAccessMatrix(title: string, app: Express, getActors: () => Actors, cases: AccessCase[]): void {
  describe(title, () => {
    for (const c of cases) {
      for (const as of principalNames) {
        it(`${c.route} as ${as} → ${c.expect[as]}`, async () => {
          const actors = getActors();
          const path = await c.path(actors, as);
          let req = request(app)[c.method](path).set(headersFor(actors, as));
          if (c.body) req = req.send(await c.body(actors, as));
          const res = await req;
          expect({ route: c.route, as, status: res.status }).toEqual({ route: c.route, as, status: c.expect[as] });
        });
      }
    }
  });
}

/** Shorthand for the common shapes of a row. */
export function statuses(anonymous: number, admin: number, manager: number, user: number, otherUser: number, customer: number, otherCustomer: number) {
  return { anonymous, admin, manager, user, otherUser, customer, otherCustomer };
}
