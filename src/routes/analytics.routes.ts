import type { z } from 'zod';
import * as analytics from '../controllers/analytics.controller';
import { commonErrors, errorResponses } from '../openapi/registry';
import * as schemas from '../schemas/analytics.schema';
import { route } from './route';

// Analytics (SPEC §3): ADMIN and MANAGER see all figures, a USER its own; customers are refused (403).
const tags = ['analytics'];
const read = ['analytics:read', 'analytics:read-all'] as const;
const common =
  'Period: whole UTC days from `from` to `to`, both included (default: the 30 days ending today). ADMIN and ' +
  'MANAGER see all figures; a USER its own (customers it owns, interactions it owns, tickets assigned to it); ' +
  'customers get 403. `format=csv` answers text/csv, one line per row. Figures come from counters kept up to ' +
  'date on every write; the first read on a database without them builds them (503 `ANALYTICS_REBUILDING` ' +
  'with Retry-After while that takes longer than 20 s).';

function jsonOrCsv(description: string, schema: z.ZodType) {
  return {
    description,
    content: {
      'application/json': { schema },
      'text/csv': { schema: { type: 'string' as const, description: 'Header line, then one line per row' } },
    },
  };
}

const errors = errorResponses(400, 401, 403, 503, ...commonErrors);

export const analyticsRoutes = [
  route({
    method: 'get',
    path: '/analytics/overview',
    operationId: 'getAnalyticsOverview',
    permissions: read,
    request: schemas.overview,
    handler: analytics.overview,
    tags,
    summary: 'Overview: customers, interactions, tickets, overdue work',
    description: `${common} Customers: total and by status now, new in the period by status. Interactions in the period by type and status. Tickets created in the period by (current) status and priority, all tickets by status now, tickets resolved in the period and their average resolution time. Overdue: scheduled follow-ups and tasks whose time has passed.`,
    responses: { 200: jsonOrCsv('The overview', schemas.overviewResponse), ...errors },
  }),
  route({
    method: 'get',
    path: '/analytics/interactions',
    operationId: 'getInteractionAnalytics',
    permissions: read,
    request: schemas.interactions,
    handler: analytics.interactions,
    tags,
    summary: 'Interactions by day, week, month, type, status or user',
    description: `${common} Interactions are placed by occurs_at (scheduled_at, else due_at, else creation). Time buckets are zero-filled and carry the per-status split; type and status list every value.`,
    responses: { 200: jsonOrCsv('The report', schemas.interactionReportResponse), ...errors },
  }),
  route({
    method: 'get',
    path: '/analytics/tickets',
    operationId: 'getTicketAnalytics',
    permissions: read,
    request: schemas.tickets,
    handler: analytics.tickets,
    tags,
    summary: 'Tickets by day, week, month, status, priority or assignee, with average resolution time',
    description: `${common} \`count\`: tickets created (in the bucket, or in the period with that value); \`resolved\` and \`average_resolution_seconds\`: tickets resolved in the bucket / period.`,
    responses: { 200: jsonOrCsv('The report', schemas.ticketReportResponse), ...errors },
  }),
  route({
    method: 'get',
    path: '/analytics/customers',
    operationId: 'getCustomerAnalytics',
    permissions: read,
    request: schemas.customers,
    handler: analytics.customers,
    tags,
    summary: 'New customers by day, week, month, status, company or owner',
    description: `${common} Customers created in the period; status is their current status.`,
    responses: { 200: jsonOrCsv('The report', schemas.customerReportResponse), ...errors },
  }),
  route({
    method: 'get',
    path: '/analytics/users',
    operationId: 'getUserAnalytics',
    permissions: ['analytics:read-all'],
    request: schemas.users,
    handler: analytics.users,
    tags,
    summary: 'Per staff user: work done in the period and open workload (ADMIN, MANAGER)',
    description: `${common} Every staff user: interactions completed (occurs_at in the period), tickets assigned to them resolved in the period with the average resolution time, and now: open and in-progress tickets assigned, scheduled interactions owned.`,
    responses: { 200: jsonOrCsv('The report', schemas.userReportResponse), ...errors },
  }),
];
