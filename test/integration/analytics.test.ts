import { beforeAll, describe, expect, it } from '@jest/globals';
import mongoose from 'mongoose';
import request from 'supertest';
import { AnalyticsCounter, AnalyticsDelta, AnalyticsState } from '../../src/models/analytics-counter.model';
import { Customer } from '../../src/models/customer.model';
import { Interaction } from '../../src/models/interaction.model';
import { Ticket } from '../../src/models/ticket.model';
import { applyCustomerChanges, readAllCounters, rebuildAnalyticsCounters } from '../../src/services/analytics';
import { dateBuckets } from '../../src/utils/date-buckets';
import { buildTestApp } from '../helpers/app';
import { createActors, createStaff, type Actors } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';

// A known data set, written straight into the collections as the services store it (fixed dates across
// several months, around month, year and ISO-week edges), so the first analytics read builds the counters from
// the raw data; later tests change data through the API and check the counters follow.

useTestDatabase();
const app = buildTestApp();
let actors: Actors;
let u1: mongoose.Types.ObjectId;
let u2: mongoose.Types.ObjectId;
const ids: Record<string, mongoose.Types.ObjectId> = {};
const idOf = (name: string) => {
  const id = ids[name];
  if (!id) throw new Error(`no seeded ${name}`);
  return id.toHexString();
};
const Q1 = 'from=2024-01-01&to=2024-03-31';

const at = (iso: string) => new Date(iso);
const oid = () => new mongoose.Types.ObjectId();

async function seed() {
  u1 = new mongoose.Types.ObjectId(actors.user.id);
  u2 = new mongoose.Types.ObjectId(actors.otherUser.id);
  const admin = new mongoose.Types.ObjectId(actors.admin.id);
  const customers: [string, string, string, string | null, mongoose.Types.ObjectId][] = [
    ['C1', '2024-01-15T10:00:00Z', 'lead', 'ACME', u1],
    ['C2', '2024-01-31T23:59:59Z', 'prospect', 'ACME', u1],
    ['C3', '2024-02-01T00:00:00Z', 'active', 'Globex', u2],
    ['C4', '2024-02-29T12:00:00Z', 'inactive', null, u2],
    ['C5', '2024-03-10T08:00:00Z', 'active', 'Globex', u1],
    ['C6', '2023-12-31T23:00:00Z', 'lead', 'ACME', admin],
    ['C7', '2024-04-02T00:00:00Z', 'lead', '=cmd|calc', u1],
  ];
  await Customer.collection.insertMany(
    customers.map(([name, created, status, company, owner]) => {
      ids[name] = oid();
      return {
        _id: ids[name],
        name,
        email: `${name.toLowerCase()}@example.com`,
        status,
        ...(company ? { company } : {}),
        owner,
        tags: [],
        token_version: 0,
        search_terms: [name.toLowerCase()],
        created_at: at(created),
        updated_at: at(created),
      };
    }),
  );
  const now = Date.now();
  const interactions: [string, Date, string, string, mongoose.Types.ObjectId][] = [
    ['I1', at('2024-01-01T00:00:00Z'), 'meeting', 'completed', u1],
    ['I2', at('2024-01-07T23:59:00Z'), 'call', 'completed', u1],
    ['I3', at('2024-01-08T00:00:00Z'), 'email', 'scheduled', u2],
    ['I4', at('2024-02-15T10:00:00Z'), 'task', 'scheduled', u1],
    ['I5', at('2024-02-20T10:00:00Z'), 'follow_up', 'scheduled', u2],
    ['I6', at('2024-03-01T09:00:00Z'), 'follow_up', 'completed', u1],
    ['I7', at('2024-03-31T23:00:00Z'), 'note', 'cancelled', u2],
    ['I8', at('2023-12-31T12:00:00Z'), 'meeting', 'completed', u1],
    ['I9', at('2099-01-01T00:00:00Z'), 'task', 'scheduled', u1],
    ['I10', at('2024-12-30T12:00:00Z'), 'call', 'scheduled', u2],
    // Overdue by a minute (today's or yesterday's, depending on the clock), and not due yet.
    ['I11', new Date(now - 60_000), 'task', 'scheduled', u2],
    ['I12', new Date(now + 2 * 3600_000), 'task', 'scheduled', u1],
  ];
  await Interaction.collection.insertMany(
    interactions.map(([name, occurs, type, status, user]) => {
      ids[name] = oid();
      return {
        _id: ids[name],
        customer: ids.C1,
        user,
        type,
        title: name,
        status,
        scheduled_at: occurs,
        ...(status === 'completed' ? { completed_at: occurs } : {}),
        occurs_at: occurs,
        ...dateBuckets(occurs),
        created_at: at('2023-12-01T00:00:00Z'),
        updated_at: at('2023-12-01T00:00:00Z'),
      };
    }),
  );
  const tickets: [string, string, string, string, mongoose.Types.ObjectId | null, string | null][] = [
    ['T1', '2024-01-10T00:00:00Z', 'resolved', 'high', u1, '2024-01-10T02:00:00Z'],
    ['T2', '2024-01-20T00:00:00Z', 'closed', 'urgent', u1, '2024-02-03T00:00:00Z'],
    ['T3', '2024-02-05T00:00:00Z', 'open', 'low', u2, null],
    ['T4', '2024-02-29T23:59:59Z', 'in_progress', 'medium', u2, null],
    ['T5', '2024-03-15T00:00:00Z', 'resolved', 'high', u2, '2024-03-15T01:00:00Z'],
    ['T6', '2024-03-20T00:00:00Z', 'open', 'medium', null, null],
    ['T7', '2023-12-20T00:00:00Z', 'closed', 'low', u1, '2024-01-02T00:00:00Z'],
  ];
  await Ticket.collection.insertMany(
    tickets.map(([name, created, status, priority, assignee, resolvedAt]) => {
      ids[name] = oid();
      const c = dateBuckets(at(created));
      const r = resolvedAt ? dateBuckets(at(resolvedAt)) : null;
      return {
        _id: ids[name],
        interaction: ids.I1,
        customer: ids.C1,
        interaction_user: u1,
        title: name,
        status,
        priority,
        assigned_to: assignee,
        creator_type: 'user',
        creator: u1,
        resolved_at: resolvedAt ? at(resolvedAt) : null,
        resolution_seconds: resolvedAt ? (at(resolvedAt).getTime() - at(created).getTime()) / 1000 : null,
        created_day: c.day,
        created_week: c.week,
        created_month: c.month,
        resolved_day: r?.day ?? null,
        resolved_week: r?.week ?? null,
        resolved_month: r?.month ?? null,
        created_at: at(created),
        updated_at: at(created),
      };
    }),
  );
}

beforeAll(async () => {
  actors = await createActors(app);
  await seed();
  // The actors' sign-ups already wrote counters; without the version marker the first read rebuilds them all.
  await AnalyticsState.deleteMany({});
});

const get = (path: string, who: keyof Actors = 'admin') => request(app).get(path).set(actors[who].headers);

/** Every counter, sorted, for comparing incremental counters with a rebuild. */
async function counterSnapshot() {
  const all = await readAllCounters();
  const sorted = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
  return sorted(
    Object.fromEntries(
      Object.entries(all)
        .filter(([, content]) => Object.keys(content).length > 0)
        .map(([id, content]) => [id, sorted(Object.fromEntries(Object.entries(content).map(([p, f]) => [p, sorted(f)])))]),
    ),
  );
}

describe('GET /analytics/overview', () => {
  it('builds the counters on first use and reports exact figures for ADMIN', async () => {
    const res = await get(`/analytics/overview?${Q1}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      from: '2024-01-01',
      to: '2024-03-31',
      scope: 'all',
      // 7 seeded + the 2 customer actors (signed up now, lead, no owner).
      customers: {
        total: 9,
        by_status: { lead: 5, prospect: 1, active: 2, inactive: 1 },
        new: 5,
        new_by_status: { lead: 1, prospect: 1, active: 2, inactive: 1 },
      },
      interactions: {
        total: 7,
        by_type: { meeting: 1, call: 1, email: 1, task: 1, follow_up: 2, note: 1 },
        by_status: { scheduled: 3, completed: 3, cancelled: 1 },
      },
      tickets: {
        created: 6,
        by_status: { open: 2, in_progress: 1, resolved: 2, closed: 1 },
        by_priority: { low: 1, medium: 2, high: 2, urgent: 1 },
        current_by_status: { open: 2, in_progress: 1, resolved: 2, closed: 2 },
        // T1 7200 s, T2 14 days, T5 3600 s, T7 13 days (created before the period, resolved in it).
        resolved: 4,
        average_resolution_seconds: (7200 + 1_209_600 + 3600 + 1_123_200) / 4,
      },
      overdue: { follow_ups: 1, tasks: 2 },
    });
  });

  it('gives MANAGER the same figures as ADMIN', async () => {
    const [admin, manager] = await Promise.all([get(`/analytics/overview?${Q1}`), get(`/analytics/overview?${Q1}`, 'manager')]);
    expect(manager.status).toBe(200);
    expect(manager.body).toEqual(admin.body);
  });

  it('gives a USER only its own figures: customers it owns, its interactions, tickets assigned to it', async () => {
    const res = await get(`/analytics/overview?${Q1}`, 'user');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      from: '2024-01-01',
      to: '2024-03-31',
      scope: 'own',
      customers: {
        total: 4,
        by_status: { lead: 2, prospect: 1, active: 1, inactive: 0 },
        new: 3,
        new_by_status: { lead: 1, prospect: 1, active: 1, inactive: 0 },
      },
      interactions: {
        total: 4,
        by_type: { meeting: 1, call: 1, email: 0, task: 1, follow_up: 1, note: 0 },
        by_status: { scheduled: 1, completed: 3, cancelled: 0 },
      },
      tickets: {
        created: 2,
        by_status: { open: 0, in_progress: 0, resolved: 1, closed: 1 },
        by_priority: { low: 0, medium: 0, high: 1, urgent: 1 },
        current_by_status: { open: 0, in_progress: 0, resolved: 1, closed: 2 },
        resolved: 3,
        average_resolution_seconds: (7200 + 1_209_600 + 1_123_200) / 3,
      },
      overdue: { follow_ups: 0, tasks: 1 },
    });
  });

  it('refuses customers (403) and anonymous callers (401)', async () => {
    for (const path of ['overview', 'interactions', 'tickets', 'customers', 'users']) {
      expect((await get(`/analytics/${path}`, 'customer')).status).toBe(403);
      expect((await request(app).get(`/analytics/${path}`)).status).toBe(401);
    }
  });

  it('takes whole UTC days: the edges are included, a time part is ignored', async () => {
    const res = await get('/analytics/overview?from=2024-01-31T23:30:00Z&to=2024-02-01');
    expect(res.body).toMatchObject({
      from: '2024-01-31',
      to: '2024-02-01',
      customers: { new: 2, new_by_status: { prospect: 1, active: 1 } },
    });
    const none = await get('/analytics/overview?from=2024-04-03&to=2024-04-30');
    expect(none.body.customers.new).toBe(0);
    expect(none.body.interactions.total).toBe(0);
    expect(none.body.tickets).toMatchObject({ created: 0, resolved: 0, average_resolution_seconds: null });
  });

  it('answers 400 for a reversed or too long period and bad parameters', async () => {
    const reversed = await get('/analytics/overview?from=2024-03-01&to=2024-02-01');
    expect(reversed.status).toBe(400);
    expect(reversed.body.details).toEqual([expect.objectContaining({ field: 'from' })]);
    expect((await get('/analytics/overview?from=2000-01-01&to=2024-02-01')).status).toBe(400);
    expect((await get('/analytics/overview?from=yesterday')).status).toBe(400);
    expect((await get('/analytics/overview?format=xml')).status).toBe(400);
    expect((await get('/analytics/interactions?group_by=customer')).status).toBe(400);
    expect((await get('/analytics/overview?from[$gt]=x')).status).toBe(400);
  });

  it('checks the 3660-day cap on the period asked for, however far off its years', async () => {
    for (const path of ['overview', 'interactions', 'tickets', 'customers', 'users']) {
      const res = await get(`/analytics/${path}?from=0001-01-01&to=9999-12-31`);
      expect({ path, status: res.status, details: res.body.details }).toEqual({
        path,
        status: 400,
        details: [{ location: 'query', field: 'from', message: 'the period may span at most 3660 days' }],
      });
    }
    // A short period in an early year is a period like any other, its days written with four-digit years.
    const early = await get('/analytics/interactions?from=0999-12-30&to=1000-01-02&group_by=week');
    expect(early.status).toBe(200);
    expect(early.body).toMatchObject({ from: '0999-12-30', to: '1000-01-02', total: 0 });
    expect(early.body.rows.map((row: { key: string }) => row.key)).toEqual(['1000-W01']);
  });

  it('answers CSV with format=csv: one line per figure', async () => {
    const res = await get(`/analytics/overview?${Q1}&format=csv`);
    expect(res.status).toBe(200);
    expect(res.type).toBe('text/csv');
    expect(res.headers['content-disposition']).toBe('attachment; filename=analytics-overview.csv');
    const lines = res.text.trim().split('\n');
    expect(lines[0]).toBe('from,to,scope,section,metric,key,value');
    expect(lines).toContain('2024-01-01,2024-03-31,all,customers,new,,5');
    expect(lines).toContain('2024-01-01,2024-03-31,all,interactions,by_type,follow_up,2');
    expect(lines).toContain('2024-01-01,2024-03-31,all,tickets,average_resolution_seconds,,585900');
    expect(lines).toContain('2024-01-01,2024-03-31,all,overdue,tasks,,2');
  });
});

describe('GET /analytics/interactions', () => {
  it('groups by month (zero-filled, with the status split)', async () => {
    const res = await get(`/analytics/interactions?${Q1}&group_by=month`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      from: '2024-01-01',
      to: '2024-03-31',
      scope: 'all',
      group_by: 'month',
      total: 7,
      rows: [
        { key: '2024-01', count: 3, scheduled: 1, completed: 2, cancelled: 0 },
        { key: '2024-02', count: 2, scheduled: 2, completed: 0, cancelled: 0 },
        { key: '2024-03', count: 2, scheduled: 0, completed: 1, cancelled: 1 },
      ],
    });
  });

  it('groups by ISO week: Monday to Sunday, the week-year across New Year', async () => {
    const jan = await get('/analytics/interactions?from=2024-01-01&to=2024-01-14&group_by=week');
    expect(jan.body.rows).toEqual([
      { key: '2024-W01', count: 2, scheduled: 0, completed: 2, cancelled: 0 },
      { key: '2024-W02', count: 1, scheduled: 1, completed: 0, cancelled: 0 },
    ]);
    const newYear = await get('/analytics/interactions?from=2024-12-23&to=2025-01-05&group_by=week');
    expect(newYear.body.rows.map((r: { key: string; count: number }) => [r.key, r.count])).toEqual([
      ['2024-W52', 0],
      ['2025-W01', 1],
    ]);
    const months = await get('/analytics/interactions?from=2024-12-23&to=2025-01-05&group_by=month');
    expect(months.body.rows.map((r: { key: string; count: number }) => [r.key, r.count])).toEqual([
      ['2024-12', 1],
      ['2025-01', 0],
    ]);
  });

  it('groups by UTC day with empty days zero-filled', async () => {
    const res = await get('/analytics/interactions?from=2024-01-06&to=2024-01-09&group_by=day');
    expect(res.body.rows.map((r: { key: string; count: number }) => [r.key, r.count])).toEqual([
      ['2024-01-06', 0],
      ['2024-01-07', 1],
      ['2024-01-08', 1],
      ['2024-01-09', 0],
    ]);
  });

  it('groups by type and status (every value listed) and by user (with names)', async () => {
    const type = await get(`/analytics/interactions?${Q1}&group_by=type`);
    expect(type.body.rows).toEqual([
      { key: 'meeting', count: 1 },
      { key: 'call', count: 1 },
      { key: 'email', count: 1 },
      { key: 'task', count: 1 },
      { key: 'follow_up', count: 2 },
      { key: 'note', count: 1 },
    ]);
    const status = await get(`/analytics/interactions?${Q1}&group_by=status`);
    expect(status.body.rows).toEqual([
      { key: 'scheduled', count: 3 },
      { key: 'completed', count: 3 },
      { key: 'cancelled', count: 1 },
    ]);
    const user = await get(`/analytics/interactions?${Q1}&group_by=user`);
    expect(user.body.rows).toEqual([
      { key: actors.user.id, name: 'user', count: 4, scheduled: 1, completed: 3, cancelled: 0 },
      { key: actors.otherUser.id, name: 'other-user', count: 3, scheduled: 2, completed: 0, cancelled: 1 },
    ]);
  });

  it('shows a USER only its own interactions', async () => {
    const res = await get(`/analytics/interactions?${Q1}&group_by=user`, 'otherUser');
    expect(res.body).toMatchObject({ scope: 'own', total: 3 });
    expect(res.body.rows).toEqual([{ key: actors.otherUser.id, name: 'other-user', count: 3, scheduled: 2, completed: 0, cancelled: 1 }]);
    const months = await get(`/analytics/interactions?${Q1}&group_by=month`, 'otherUser');
    expect(months.body.rows.map((r: { count: number }) => r.count)).toEqual([1, 1, 1]);
  });

  it('answers CSV rows', async () => {
    const res = await get(`/analytics/interactions?${Q1}&group_by=month&format=csv`);
    expect(res.headers['content-disposition']).toBe('attachment; filename=analytics-interactions-month.csv');
    expect(res.text.trim().split('\n')).toEqual([
      'from,to,scope,group_by,key,count,scheduled,completed,cancelled',
      '2024-01-01,2024-03-31,all,month,2024-01,3,1,2,0',
      '2024-01-01,2024-03-31,all,month,2024-02,2,2,0,0',
      '2024-01-01,2024-03-31,all,month,2024-03,2,0,1,1',
    ]);
  });
});

describe('GET /analytics/tickets', () => {
  it('groups by month: created, resolved and average resolution time per bucket', async () => {
    const res = await get(`/analytics/tickets?${Q1}&group_by=month`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      from: '2024-01-01',
      to: '2024-03-31',
      scope: 'all',
      group_by: 'month',
      total: 6,
      resolved: 4,
      average_resolution_seconds: 585_900,
      rows: [
        { key: '2024-01', count: 2, resolved: 2, average_resolution_seconds: (7200 + 1_123_200) / 2 },
        { key: '2024-02', count: 2, resolved: 1, average_resolution_seconds: 1_209_600 },
        { key: '2024-03', count: 2, resolved: 1, average_resolution_seconds: 3600 },
      ],
    });
  });

  it('groups by day and week across a month edge', async () => {
    const days = await get('/analytics/tickets?from=2024-02-29&to=2024-03-01&group_by=day');
    expect(days.body.rows).toEqual([
      { key: '2024-02-29', count: 1, resolved: 0, average_resolution_seconds: null },
      { key: '2024-03-01', count: 0, resolved: 0, average_resolution_seconds: null },
    ]);
    const weeks = await get('/analytics/tickets?from=2024-01-01&to=2024-01-21&group_by=week');
    expect(weeks.body.rows).toEqual([
      { key: '2024-W01', count: 0, resolved: 1, average_resolution_seconds: 1_123_200 },
      { key: '2024-W02', count: 1, resolved: 1, average_resolution_seconds: 7200 },
      { key: '2024-W03', count: 1, resolved: 0, average_resolution_seconds: null },
    ]);
  });

  it('groups by status, priority and assignee', async () => {
    const status = await get(`/analytics/tickets?${Q1}&group_by=status`);
    expect(status.body.rows).toEqual([
      { key: 'open', count: 2, resolved: null, average_resolution_seconds: null },
      { key: 'in_progress', count: 1, resolved: null, average_resolution_seconds: null },
      { key: 'resolved', count: 2, resolved: null, average_resolution_seconds: null },
      { key: 'closed', count: 1, resolved: null, average_resolution_seconds: null },
    ]);
    const priority = await get(`/analytics/tickets?${Q1}&group_by=priority`);
    expect(priority.body.rows).toEqual([
      { key: 'low', count: 1, resolved: 1, average_resolution_seconds: 1_123_200 },
      { key: 'medium', count: 2, resolved: 0, average_resolution_seconds: null },
      { key: 'high', count: 2, resolved: 2, average_resolution_seconds: 5400 },
      { key: 'urgent', count: 1, resolved: 1, average_resolution_seconds: 1_209_600 },
    ]);
    const assignee = await get(`/analytics/tickets?${Q1}&group_by=assignee`);
    expect(assignee.body.rows).toEqual([
      { key: actors.otherUser.id, name: 'other-user', count: 3, resolved: 1, average_resolution_seconds: 3600 },
      { key: actors.user.id, name: 'user', count: 2, resolved: 3, average_resolution_seconds: 780_000 },
      { key: null, name: null, count: 1, resolved: 0, average_resolution_seconds: null },
    ]);
  });

  it('shows a USER only the tickets assigned to it', async () => {
    const res = await get(`/analytics/tickets?${Q1}&group_by=priority`, 'user');
    expect(res.body).toMatchObject({ scope: 'own', total: 2, resolved: 3, average_resolution_seconds: 780_000 });
    expect(res.body.rows.map((r: { count: number }) => r.count)).toEqual([0, 0, 1, 1]);
  });
});

describe('GET /analytics/customers', () => {
  it('groups by month, with partial months at the period edges', async () => {
    const res = await get('/analytics/customers?from=2024-01-15&to=2024-03-10&group_by=month');
    expect(res.body).toEqual({
      from: '2024-01-15',
      to: '2024-03-10',
      scope: 'all',
      group_by: 'month',
      total: 5,
      rows: [
        { key: '2024-01', count: 2 },
        { key: '2024-02', count: 2 },
        { key: '2024-03', count: 1 },
      ],
    });
    const narrower = await get('/analytics/customers?from=2024-01-16&to=2024-03-09&group_by=month');
    expect(narrower.body.rows.map((r: { count: number }) => r.count)).toEqual([1, 2, 0]);
  });

  it('groups by day and week', async () => {
    const days = await get('/analytics/customers?from=2024-01-31&to=2024-02-02&group_by=day');
    expect(days.body.rows).toEqual([
      { key: '2024-01-31', count: 1 },
      { key: '2024-02-01', count: 1 },
      { key: '2024-02-02', count: 0 },
    ]);
    const weeks = await get('/analytics/customers?from=2024-01-29&to=2024-02-11&group_by=week');
    expect(weeks.body.rows).toEqual([
      { key: '2024-W05', count: 2 },
      { key: '2024-W06', count: 0 },
    ]);
  });

  it('groups by status, company and owner', async () => {
    const status = await get(`/analytics/customers?${Q1}&group_by=status`);
    expect(status.body.rows).toEqual([
      { key: 'lead', count: 1 },
      { key: 'prospect', count: 1 },
      { key: 'active', count: 2 },
      { key: 'inactive', count: 1 },
    ]);
    const company = await get(`/analytics/customers?${Q1}&group_by=company`);
    expect(company.body.rows).toEqual([
      { key: 'ACME', count: 2 },
      { key: 'Globex', count: 2 },
      { key: null, count: 1 },
    ]);
    const owner = await get(`/analytics/customers?${Q1}&group_by=owner`);
    expect(owner.body.rows).toEqual([
      { key: actors.user.id, name: 'user', count: 3 },
      { key: actors.otherUser.id, name: 'other-user', count: 2 },
    ]);
  });

  it('shows a USER only the customers it owns', async () => {
    const res = await get(`/analytics/customers?${Q1}&group_by=company`, 'otherUser');
    expect(res.body).toMatchObject({
      scope: 'own',
      total: 2,
      rows: [
        { key: 'Globex', count: 1 },
        { key: null, count: 1 },
      ],
    });
  });

  it('neutralises spreadsheet formulas in CSV cells', async () => {
    const res = await get('/analytics/customers?from=2024-04-01&to=2024-04-30&group_by=company&format=csv');
    expect(res.text.trim().split('\n')).toEqual(['from,to,scope,group_by,key,count', "2024-04-01,2024-04-30,all,company,'=cmd|calc,1"]);
  });
});

describe('GET /analytics/users', () => {
  it('lists every staff user: work done in the period and open workload now', async () => {
    const res = await get(`/analytics/users?${Q1}`, 'manager');
    expect(res.status).toBe(200);
    const row = (id: string, name: string, role: string, figures: Record<string, number | null>) => ({
      user_id: id,
      name,
      role,
      ...figures,
    });
    const zero = {
      interactions_done: 0,
      tickets_resolved: 0,
      average_resolution_seconds: null,
      open_tickets: 0,
      scheduled_interactions: 0,
    };
    expect(res.body).toEqual({
      from: '2024-01-01',
      to: '2024-03-31',
      scope: 'all',
      rows: [
        row(actors.admin.id, 'Admin', 'ADMIN', zero),
        row(actors.manager.id, 'manager', 'MANAGER', zero),
        row(actors.otherUser.id, 'other-user', 'USER', {
          interactions_done: 0,
          tickets_resolved: 1,
          average_resolution_seconds: 3600,
          open_tickets: 2,
          scheduled_interactions: 4,
        }),
        row(actors.user.id, 'user', 'USER', {
          interactions_done: 3,
          tickets_resolved: 3,
          average_resolution_seconds: 780_000,
          open_tickets: 0,
          scheduled_interactions: 3,
        }),
      ],
    });
  });

  it('is refused to a USER (403)', async () => {
    expect((await get('/analytics/users', 'user')).status).toBe(403);
  });
});

describe('counters follow writes', () => {
  it('updates incrementally through the API and matches a rebuild from the raw data', async () => {
    // A status change moves C1 (created 2024-01-15) from lead to active.
    expect(
      (
        await request(app)
          .patch(`/customers/${idOf('C1')}`)
          .set(actors.admin.headers)
          .send({ status: 'active' })
      ).status,
    ).toBe(200);
    // T3: open → in_progress → resolved (today).
    for (const status of ['in_progress', 'resolved']) {
      const res = await request(app)
        .patch(`/customers/ticket/${idOf('T3')}`)
        .set(actors.admin.headers)
        .send({ status });
      expect(res.status).toBe(200);
    }
    // I7 (note, cancelled, 2024-03-31) deleted; I4 (overdue task) completed.
    expect(
      (
        await request(app)
          .delete(`/interactions/${idOf('I7')}`)
          .set(actors.admin.headers)
      ).status,
    ).toBe(200);
    expect(
      (
        await request(app)
          .patch(`/interactions/${idOf('I4')}`)
          .set(actors.admin.headers)
          .send({ status: 'completed' })
      ).status,
    ).toBe(200);

    const res = await get(`/analytics/overview?${Q1}`);
    expect(res.body.customers.new_by_status).toEqual({ lead: 0, prospect: 1, active: 3, inactive: 1 });
    expect(res.body.interactions.by_status).toEqual({ scheduled: 2, completed: 4, cancelled: 0 });
    expect(res.body.tickets.by_status).toEqual({ open: 1, in_progress: 1, resolved: 3, closed: 1 });
    expect(res.body.overdue).toEqual({ follow_ups: 1, tasks: 1 });

    const incremental = await counterSnapshot();
    await rebuildAnalyticsCounters();
    expect(await counterSnapshot()).toEqual(incremental);
  });

  it('stays exact under concurrent writes to the same counters', async () => {
    const created = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        request(app)
          .post('/customers')
          .set(actors.manager.headers)
          .send({ name: `Parallel ${i}`, email: `parallel.${i}@example.com`, company: 'Initech' }),
      ),
    );
    expect(created.map((r) => r.status)).toEqual(Array(12).fill(201));
    const today = dateBuckets(new Date()).day;
    const res = await get(`/analytics/customers?from=${today}&to=${today}&group_by=company`);
    expect(res.body.rows).toContainEqual({ key: 'Initech', count: 12 });

    const incremental = await counterSnapshot();
    await rebuildAnalyticsCounters();
    expect(await counterSnapshot()).toEqual(incremental);
  });

  it('follows cascades: deleting a customer with its interactions and tickets', async () => {
    const before = (await get(`/analytics/overview?${Q1}`)).body;
    const res = await request(app)
      .delete(`/customers/${idOf('C1')}?cascade=true`)
      .set(actors.admin.headers);
    expect(res.status).toBe(200);
    const after = (await get(`/analytics/overview?${Q1}`)).body;
    expect(after.customers.new).toBe(before.customers.new - 1);
    // Every seeded interaction and ticket hung off C1.
    expect(after.interactions.total).toBe(0);
    expect(after.tickets.created).toBe(0);
    const incremental = await counterSnapshot();
    await rebuildAnalyticsCounters();
    expect(await counterSnapshot()).toEqual(incremental);
  });

  it('follows a staff user deleted with reassign_to', async () => {
    const leaver = await createStaff(app, actors.admin, 'USER', 'leaver');
    const customer = await request(app)
      .post('/customers')
      .set(actors.admin.headers)
      .send({ name: 'Leaver Co', email: 'leaver.co@example.com', owner_id: leaver.id });
    expect(customer.status).toBe(201);
    const res = await request(app).delete(`/users/${leaver.id}?reassign_to=${actors.user.id}`).set(actors.admin.headers);
    expect(res.status).toBe(200);
    const today = dateBuckets(new Date()).day;
    const owners = await get(`/analytics/customers?from=${today}&to=${today}&group_by=owner`);
    expect(owners.body.rows.map((r: { key: string }) => r.key)).not.toContain(leaver.id);
    const incremental = await counterSnapshot();
    await rebuildAnalyticsCounters();
    expect(await counterSnapshot()).toEqual(incremental);
  });
});

describe('bulk writers and recovery', () => {
  it('counts rows a bulk writer inserted itself once it passes the batch to apply*Changes', async () => {
    const owner = new mongoose.Types.ObjectId(actors.user.id);
    const rows = Array.from({ length: 50 }, (_, i) => ({
      _id: new mongoose.Types.ObjectId(),
      name: `Bulk ${i}`,
      email: `bulk.${i}@example.com`,
      status: i % 2 === 0 ? 'active' : 'lead',
      company: 'Bulk Inc',
      owner,
      tags: [],
      token_version: 0,
      search_terms: [],
      created_at: at('2025-06-10T12:00:00Z'),
      updated_at: at('2025-06-10T12:00:00Z'),
    }));
    await Customer.collection.insertMany(rows);
    await applyCustomerChanges(rows.map((after) => ({ before: null, after })));
    const res = await get('/analytics/customers?from=2025-06-01&to=2025-06-30&group_by=status', 'user');
    expect(res.body.rows).toEqual([
      { key: 'lead', count: 25 },
      { key: 'prospect', count: 0 },
      { key: 'active', count: 25 },
      { key: 'inactive', count: 0 },
    ]);
    // An update batch (upsert by e-mail) passes before and after.
    await Customer.collection.updateMany({ company: 'Bulk Inc' }, { $set: { status: 'inactive' } });
    await applyCustomerChanges(rows.map((before) => ({ before, after: { ...before, status: 'inactive' } })));
    const after = await get('/analytics/customers?from=2025-06-01&to=2025-06-30&group_by=status', 'user');
    expect(after.body.rows.map((r: { count: number }) => r.count)).toEqual([0, 0, 0, 50]);
  });

  it('does not count twice a fold that wrote the counters but crashed before deleting its deltas', async () => {
    await get('/analytics/overview');
    const change = {
      before: null,
      after: { created_at: at('2025-07-04T10:00:00Z'), status: 'prospect', company: 'Crash Ltd', owner: null },
    };
    await applyCustomerChanges([change]);
    const [pending] = await AnalyticsDelta.find({}).lean<{ u: unknown[] }[]>();
    expect(pending).toBeDefined();
    const first = await get('/analytics/customers?from=2025-07-04&to=2025-07-04&group_by=company');
    expect(first.body.rows).toEqual([{ key: 'Crash Ltd', count: 1 }]);
    // Replay the crash: the same delta, claimed by the fold that already stamped the counter documents.
    const stamp = (await AnalyticsCounter.findById('c|2025-07').lean<{ x: string }>())?.x;
    expect(typeof stamp).toBe('string');
    await AnalyticsDelta.collection.insertOne({ u: pending?.u ?? [], x: stamp });
    const again = await get('/analytics/customers?from=2025-07-04&to=2025-07-04&group_by=company');
    expect(again.body.rows).toEqual([{ key: 'Crash Ltd', count: 1 }]);
    expect(await AnalyticsDelta.countDocuments()).toBe(0);
  });
});
