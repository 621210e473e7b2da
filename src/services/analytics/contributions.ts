import type mongoose from 'mongoose';
import { dateBuckets } from '../../utils/date-buckets';
import { counterField, counterId, Dimension, duePath, Entity, TOTALS } from './counter-keys';

// What one customer, interaction or ticket adds to the counters: at most a few fields of its day's document
// (in its month's counter document) and of the all-time document. A change counts as its old record taken
// away and its new record added.

type Id = mongoose.Types.ObjectId | string | null | undefined;

/** The customer fields the counters use (a Customer document or lean record fits). */
export interface CustomerLike {
  created_at: Date;
  status: string;
  company?: string | null;
  owner?: Id;
}

/** The interaction fields the counters use: occurs_at and its buckets, type, status, owner. */
export interface InteractionLike {
  occurs_at: Date;
  day: string;
  month: string;
  type: string;
  status: string;
  user: Id;
}

/** The ticket fields the counters use. */
export interface TicketLike {
  created_day: string;
  created_month: string;
  status: string;
  priority: string;
  assigned_to?: Id;
  resolved_day?: string | null;
  resolved_month?: string | null;
  resolution_seconds?: number | null;
}

/** A record before and after a write: before null for a creation, after null for a deletion. */
export interface Change<T> {
  before: T | null;
  after: T | null;
}

/** The projections that read exactly the fields above. */
export const customerFields = { created_at: 1, status: 1, company: 1, owner: 1 };
export const interactionFields = { occurs_at: 1, day: 1, month: 1, type: 1, status: 1, user: 1 };
export const ticketFields = {
  created_day: 1,
  created_month: 1,
  status: 1,
  priority: 1,
  assigned_to: 1,
  resolved_day: 1,
  resolved_month: 1,
  resolution_seconds: 1,
};

/** Interaction types whose scheduled, past-due records count as overdue. */
export const overdueTypes = ['follow_up', 'task'] as const;

interface Contribution {
  counterId: string;
  entity: Entity;
  /** The day, or a path in an all-time document */
  path: string;
  field: string;
  value: number;
}

/** Field increments by counter document, then path (day), then field. */
export type Increments = Map<string, { entity: Entity; paths: Map<string, Map<string, number>> }>;

export function addContribution(target: Increments, contribution: Contribution, sign: 1 | -1): void {
  let counter = target.get(contribution.counterId);
  if (!counter) {
    counter = { entity: contribution.entity, paths: new Map() };
    target.set(contribution.counterId, counter);
  }
  let fields = counter.paths.get(contribution.path);
  if (!fields) {
    fields = new Map();
    counter.paths.set(contribution.path, fields);
  }
  fields.set(contribution.field, (fields.get(contribution.field) ?? 0) + sign * contribution.value);
}

/** The fields with a non-zero increment, or null when none is left. */
export function nonZeroFields(fields: Map<string, number>): Record<string, number> | null {
  const kept = [...fields].filter(([, value]) => value !== 0);
  return kept.length > 0 ? Object.fromEntries(kept) : null;
}

const daily = (entity: Entity, day: string, field: string, value = 1): Contribution => ({
  counterId: counterId(entity, day.slice(0, 7)),
  entity,
  path: day,
  field,
  value,
});
const allTime = (entity: Entity, field: string, path = TOTALS): Contribution => ({
  counterId: counterId(entity, null),
  entity,
  path,
  field,
  value: 1,
});

export type Contributions<T> = (record: T) => Contribution[];

export const customerContributions: Contributions<CustomerLike> = (customer) => {
  const { day } = dateBuckets(new Date(customer.created_at));
  const status = counterField(Dimension.status, customer.status, customer.owner);
  return [
    daily(Entity.customers, day, status),
    daily(Entity.customers, day, counterField(Dimension.company, customer.company ?? '', customer.owner)),
    allTime(Entity.customers, status),
  ];
};

export const interactionContributions: Contributions<InteractionLike> = (interaction) => {
  const status = counterField(Dimension.status, interaction.status, interaction.user);
  const contributions = [
    daily(Entity.interactions, interaction.day, counterField(Dimension.type, interaction.type, interaction.user)),
    daily(Entity.interactions, interaction.day, status),
    allTime(Entity.interactions, status),
  ];
  if (interaction.status === 'scheduled' && overdueTypes.some((type) => type === interaction.type)) {
    const due = duePath(new Date(interaction.occurs_at));
    contributions.push(allTime(Entity.interactions, counterField(Dimension.overdue, interaction.type, interaction.user), due));
  }
  return contributions;
};

export const ticketContributions: Contributions<TicketLike> = (ticket) => {
  const status = counterField(Dimension.status, ticket.status, ticket.assigned_to);
  const contributions = [
    daily(Entity.tickets, ticket.created_day, status),
    daily(Entity.tickets, ticket.created_day, counterField(Dimension.priority, ticket.priority, ticket.assigned_to)),
    allTime(Entity.tickets, status),
  ];
  if (ticket.resolved_day && ticket.resolution_seconds !== null && ticket.resolution_seconds !== undefined) {
    const count = counterField(Dimension.resolvedCount, ticket.priority, ticket.assigned_to);
    const seconds = counterField(Dimension.resolutionSeconds, ticket.priority, ticket.assigned_to);
    contributions.push(daily(Entity.resolutions, ticket.resolved_day, count));
    contributions.push(daily(Entity.resolutions, ticket.resolved_day, seconds, ticket.resolution_seconds));
  }
  return contributions;
};

/** The increments of a batch of changes: each before record taken away, each after record added. */
export function collectChanges<T>(changes: readonly Change<T>[], contributions: Contributions<T>): Increments {
  const increments: Increments = new Map();
  for (const { before, after } of changes) {
    if (before) for (const contribution of contributions(before)) addContribution(increments, contribution, -1);
    if (after) for (const contribution of contributions(after)) addContribution(increments, contribution, 1);
  }
  return increments;
}
