import type mongoose from 'mongoose';

// The stored vocabulary of the analytics counters. The short codes below are written into every counter and
// delta document (ids, entity fields, field names), so their values are a storage format: renaming a constant
// is free, changing a value needs a COUNTERS_VERSION bump (the next read rebuilds every counter).
//
// A counter document is `<entity>|<YYYY-MM>` (that month's UTC days) or `<entity>|t` (all time); inside it,
// `{ <day or path>: { <dimension>:<value>:<staff user id or ''>: n } }`.

/** What a counter document counts: its id prefix and its `e` field. */
export const Entity = {
  /** Customers, by creation day. */
  customers: 'c',
  /** Interactions, by occurs_at day. */
  interactions: 'i',
  /** Tickets, by creation day. */
  tickets: 't',
  /** Ticket resolutions, by resolution day. */
  resolutions: 'r',
} as const;
export type Entity = (typeof Entity)[keyof typeof Entity];

/** The first segment of a counter field: what the value segment is. */
export const Dimension = {
  status: 'st',
  type: 'ty',
  priority: 'pr',
  company: 'co',
  /** Scheduled follow-ups and tasks by type (in the interactions' all-time document, under a due path). */
  overdue: 'od',
  /** Tickets resolved, by priority. */
  resolvedCount: 'rn',
  /** Sum of resolution_seconds, by priority. */
  resolutionSeconds: 'rs',
} as const;
export type Dimension = (typeof Dimension)[keyof typeof Dimension];

/** The month part of an entity's all-time counter document id. */
const ALL_TIME = 't';
const ID_SEPARATOR = '|';
const FIELD_SEPARATOR = ':';
/** Inside an all-time document: the current-state totals. */
export const TOTALS = 'totals';
/** Inside the interactions' all-time document: `due|<YYYY-MM-DDTHH:MM:SS>`, scheduled work by due second. */
export const DUE_PREFIX = 'due|';

type Id = mongoose.Types.ObjectId | string | null | undefined;
const idText = (id: Id): string => (id ? String(id) : '');

/** The counter document of an entity's month (YYYY-MM), or its all-time document (month null). */
export const counterId = (entity: Entity, month: string | null) => `${entity}${ID_SEPARATOR}${month ?? ALL_TIME}`;

/** The path under which a scheduled follow-up or task due at `occursAt` is counted. */
export const duePath = (occursAt: Date) => `${DUE_PREFIX}${occursAt.toISOString().slice(0, 19)}`;

/** Dimension values become field-name segments: no `.`, `$` or `:` (percent-encoded). */
function encodeSegment(value: string): string {
  return encodeURIComponent(value).replace(/\./g, '%2E');
}

/** A counter field: dimension, value, staff user ('' for none). */
export const counterField = (dimension: Dimension, value: string, user: Id) =>
  [dimension, encodeSegment(value), idText(user)].join(FIELD_SEPARATOR);

export interface ParsedField {
  dimension: string;
  value: string;
  user: string;
}

const parsedFields = new Map<string, ParsedField>();
const MAX_REMEMBERED_FIELDS = 200_000;

/** Parses (and remembers: the same few thousand fields recur in every document) a counter field. */
export function parseField(field: string): ParsedField {
  let parsed = parsedFields.get(field);
  if (!parsed) {
    const [dimension = '', value = '', user = ''] = field.split(FIELD_SEPARATOR);
    parsed = { dimension, value: decodeURIComponent(value), user };
    if (parsedFields.size < MAX_REMEMBERED_FIELDS) parsedFields.set(field, parsed);
  }
  return parsed;
}

/** The prefix of every field of one dimension and value (any user). */
export const fieldPrefix = (dimension: Dimension, value: string) =>
  `${dimension}${FIELD_SEPARATOR}${encodeSegment(value)}${FIELD_SEPARATOR}`;
