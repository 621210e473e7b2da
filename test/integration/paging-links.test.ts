import { beforeAll, describe, expect, it } from '@jest/globals';
import mongoose from 'mongoose';
import request from 'supertest';
import { Customer, searchTermsFor } from '../../src/models/customer.model';
import { MAX_PAGE } from '../../src/utils/paging';
import { buildTestApp } from '../helpers/app';
import { bootstrapAdmin, type Actor } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';

// A list's Link header must never name a page the API refuses: `page` is capped at MAX_PAGE, so a list with
// more pages than that gets no rel="last" (clients go deeper with the `next` cursor links).
// Each request counts and skips through 10,002 rows: on FerretDB (scans) on a busy machine that takes seconds.
const SLOW_LIST_MS = 120_000;

useTestDatabase();
const app = buildTestApp();
let admin: Actor;
const COUNT = MAX_PAGE + 2;

function links(header: string | undefined): Map<string, string> {
  const found = new Map<string, string>();
  for (const part of (header ?? '').split(',')) {
    const match = /<([^>]+)>;\s*rel="([^"]+)"/.exec(part.trim());
    if (match?.[1] && match[2]) found.set(match[2], match[1]);
  }
  return found;
}

beforeAll(async () => {
  admin = await bootstrapAdmin(app);
  const owner = new mongoose.Types.ObjectId(admin.id);
  const now = Date.now();
  const docs = Array.from({ length: COUNT }, (_, i) => {
    const fields = { name: `Paged ${i}`, email: `paged.${i}@example.com` };
    const at = new Date(now - i * 1000);
    return { ...fields, status: 'lead', owner, tags: [], search_terms: searchTermsFor(fields), created_at: at, updated_at: at };
  });
  for (let i = 0; i < docs.length; i += 2000) await Customer.collection.insertMany(docs.slice(i, i + 2000));
}, 120_000);

describe('GET /customers paging links', () => {
  it(
    `names no last page past ${MAX_PAGE}, and every link it names answers 200`,
    async () => {
      const res = await request(app).get('/customers?limit=1').set(admin.headers);
      expect(res.status).toBe(200);
      expect(res.headers['x-total-count']).toBe(String(COUNT));
      const named = links(res.headers.link);
      expect(named.has('last')).toBe(false);
      expect([...named.keys()].sort()).toEqual(['first', 'next']);
      for (const target of named.values()) expect((await request(app).get(target).set(admin.headers)).status).toBe(200);
      // The cap itself is still a page, and one past it is refused, as documented.
      expect((await request(app).get(`/customers?limit=1&page=${MAX_PAGE}`).set(admin.headers)).status).toBe(200);
      expect(
        (
          await request(app)
            .get(`/customers?limit=1&page=${MAX_PAGE + 1}`)
            .set(admin.headers)
        ).status,
      ).toBe(400);
    },
    SLOW_LIST_MS,
  );

  it(
    'names the last page when it is within the cap, and it answers 200 with the last rows',
    async () => {
      const res = await request(app).get('/customers?limit=2').set(admin.headers);
      const last = links(res.headers.link).get('last');
      expect(last).toContain(`page=${Math.ceil(COUNT / 2)}`);
      const page = await request(app).get(String(last)).set(admin.headers);
      expect(page.status).toBe(200);
      expect(page.body).toHaveLength(COUNT % 2 === 0 ? 2 : 1);
    },
    SLOW_LIST_MS,
  );
});
