import { z } from 'zod';
import { customerStatuses } from '../models/customer.model';
import { interactionStatuses, interactionTypes } from '../models/interaction.model';
import { ticketPriorities, ticketStatuses } from '../models/ticket.model';
import { recordFromKeys } from '../utils/record-from-keys';
import { isoDate, isoDateAfter } from './common.schema';

// Analytics queries: a period of whole UTC days (`from`/`to`, both included), the output format and, for the
// grouped reports, what the rows are grouped by.

export const timeGroupings = ['day', 'week', 'month'] as const;
export type TimeGrouping = (typeof timeGroupings)[number];
export const interactionGroupings = [...timeGroupings, 'type', 'status', 'user'] as const;
export type InteractionGrouping = (typeof interactionGroupings)[number];
export const ticketGroupings = [...timeGroupings, 'status', 'priority', 'assignee'] as const;
export type TicketGrouping = (typeof ticketGroupings)[number];
export const customerGroupings = [...timeGroupings, 'status', 'company', 'owner'] as const;
export type CustomerGrouping = (typeof customerGroupings)[number];

const periodQuery = {
  from: isoDate.optional().meta({ description: 'First UTC day of the period (a time part is ignored); default 29 days before `to`' }),
  to: isoDateAfter.optional().meta({ description: 'Last UTC day of the period, included; default today' }),
  format: z.enum(['json', 'csv']).default('json').meta({ description: 'csv answers text/csv (one line per row)' }),
};

function groupedQuery<T extends readonly [string, ...string[]]>(groupings: T) {
  return z
    .object({
      ...periodQuery,
      group_by: z.enum(groupings).default('day').meta({
        description:
          'day = UTC day (YYYY-MM-DD), week = ISO 8601 week (YYYY-Www), month = calendar month (YYYY-MM); time buckets are zero-filled',
      }),
    })
    .strict();
}

export const overview = { query: z.object(periodQuery).strict() };
export const interactions = { query: groupedQuery(interactionGroupings) };
export const tickets = { query: groupedQuery(ticketGroupings) };
export const customers = { query: groupedQuery(customerGroupings) };
export const users = { query: z.object(periodQuery).strict() };

// ---- responses ----

const day = z.string().meta({ example: '2024-09-01' });
const period = {
  from: day.meta({ description: 'First UTC day of the period' }),
  to: day.meta({ description: 'Last UTC day of the period (included)' }),
  scope: z.enum(['all', 'own']).meta({ description: "own: a USER's own figures" }),
};
const counts = <T extends readonly [string, ...string[]]>(values: T) => z.object(recordFromKeys(values, () => z.number().int())).strict();
const seconds = z
  .number()
  .int()
  .nullable()
  .meta({ description: 'Sum of resolution times / number resolved, whole seconds; null when none' });

export const overviewResponse = z
  .object({
    ...period,
    customers: z
      .object({
        total: z.number().int().meta({ description: 'Customers in scope now' }),
        by_status: counts(customerStatuses),
        new: z.number().int().meta({ description: 'Created in the period' }),
        new_by_status: counts(customerStatuses),
      })
      .strict(),
    interactions: z
      .object({
        total: z.number().int().meta({ description: 'Interactions whose occurs_at falls in the period' }),
        by_type: counts(interactionTypes),
        by_status: counts(interactionStatuses),
      })
      .strict(),
    tickets: z
      .object({
        created: z.number().int().meta({ description: 'Tickets created in the period' }),
        by_status: counts(ticketStatuses).meta({ description: 'Current status of the tickets created in the period' }),
        by_priority: counts(ticketPriorities),
        current_by_status: counts(ticketStatuses).meta({ description: 'All tickets in scope now, by status' }),
        resolved: z.number().int().meta({ description: 'Tickets resolved in the period' }),
        average_resolution_seconds: seconds,
      })
      .strict(),
    overdue: z
      .object({ follow_ups: z.number().int(), tasks: z.number().int() })
      .strict()
      .meta({ description: 'Scheduled follow-ups and tasks whose time has passed, as of now' }),
  })
  .strict()
  .meta({ id: 'AnalyticsOverview' });

const key = z.string().nullable().meta({ description: 'Bucket, enum value, company or user id (null: none)' });
const name = z.string().nullable().optional().meta({ description: 'User name (user/owner/assignee groupings)' });

export const interactionReportResponse = z
  .object({
    ...period,
    group_by: z.enum(interactionGroupings),
    total: z.number().int(),
    rows: z.array(
      z
        .object({
          key,
          name,
          count: z.number().int(),
          scheduled: z.number().int().optional(),
          completed: z.number().int().optional(),
          cancelled: z.number().int().optional(),
        })
        .strict(),
    ),
  })
  .strict()
  .meta({ id: 'AnalyticsInteractions' });

export const ticketReportResponse = z
  .object({
    ...period,
    group_by: z.enum(ticketGroupings),
    total: z.number().int().meta({ description: 'Tickets created in the period' }),
    resolved: z.number().int().meta({ description: 'Tickets resolved in the period' }),
    average_resolution_seconds: seconds,
    rows: z.array(
      z
        .object({
          key,
          name,
          count: z.number().int().meta({ description: 'Created (in the bucket, or in the period with this value)' }),
          resolved: z.number().int().nullable().meta({ description: 'Resolved in the bucket/with this value; null for status' }),
          average_resolution_seconds: seconds,
        })
        .strict(),
    ),
  })
  .strict()
  .meta({ id: 'AnalyticsTickets' });

export const customerReportResponse = z
  .object({
    ...period,
    group_by: z.enum(customerGroupings),
    total: z.number().int().meta({ description: 'Customers created in the period' }),
    rows: z.array(z.object({ key, name, count: z.number().int() }).strict()),
  })
  .strict()
  .meta({ id: 'AnalyticsCustomers' });

export const userReportResponse = z
  .object({
    ...period,
    rows: z.array(
      z
        .object({
          user_id: z.string(),
          name: z.string(),
          role: z.string(),
          interactions_done: z.number().int().meta({ description: 'Completed interactions whose occurs_at is in the period' }),
          tickets_resolved: z.number().int().meta({ description: 'Tickets assigned to the user, resolved in the period' }),
          average_resolution_seconds: seconds,
          open_tickets: z.number().int().meta({ description: 'Open workload now: open and in-progress tickets assigned' }),
          scheduled_interactions: z.number().int().meta({ description: 'Open workload now: scheduled interactions owned' }),
        })
        .strict(),
    ),
  })
  .strict()
  .meta({ id: 'AnalyticsUsers' });
