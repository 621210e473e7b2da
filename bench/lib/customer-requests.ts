import { randomBytes } from 'node:crypto';
import type { Request as AutocannonRequest } from 'autocannon';
import { statuses } from './seed';

// The customer requests the benches send (bench:api, bench:profile, bench:ab), built one way for all of them.

/** One kind of request: its method, and a path and body made afresh for each request sent. */
export interface BenchRequest {
  method: 'GET' | 'POST' | 'PATCH';
  path: () => string;
  body?: () => string;
}

const pick = <T>(items: readonly T[]) => items[Math.floor(Math.random() * items.length)] as T;

/** Creates numbered across every generator of this process, so no two bodies share a name or a phone. */
let created = 0;

/**
 * POST /customers bodies: each a new customer, its e-mail unique to `tag`. Each its own name and phone, as new
 * contacts mostly have, across the sizes of one bench:api run too (numbered per size, the creates at 100k had
 * the 10k ones' names and phones, so every one was a duplicate to mark): a number shared by every create makes
 * each one a duplicate of all the others (the crowded-key case, measured on its own with BENCH_POST_PHONE).
 */
export function newCustomerBodies(tag: string): () => string {
  return () => {
    created += 1;
    return JSON.stringify({
      name: `New Customer ${created}`,
      email: `new.${tag}.${created}.${randomBytes(4).toString('hex')}@example.com`,
      company: 'Bench Co',
      phone: process.env.BENCH_POST_PHONE ?? `+1 212 ${String(created % 10_000_000).padStart(7, '0')}`,
    });
  };
}

/** A PATCH /customers/:id body: a status and a new phone (so the duplicate keys change too). */
export function customerPatchBody(): string {
  return JSON.stringify({ status: pick(statuses), phone: `+1 555 ${Math.floor(Math.random() * 1e7)}` });
}

/** A path to one of `ids`, picked at random for each request. */
export function customerPath(ids: readonly string[]): () => string {
  return () => `/customers/${pick(ids)}`;
}

/** A path to one of the interaction `ids`, picked at random for each request. */
export function interactionPath(ids: readonly string[]): () => string {
  return () => `/interactions/${pick(ids)}`;
}

/** autocannon's `requests` for `request`: a fresh path and body for every one sent. */
export function autocannonRequests(request: BenchRequest): AutocannonRequest[] {
  return [
    {
      setupRequest: (req) => ({ ...req, method: request.method, path: request.path(), ...(request.body ? { body: request.body() } : {}) }),
    },
  ];
}
