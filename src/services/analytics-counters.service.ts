import { deflateRawSync, inflateRawSync } from 'node:zlib';
import mongoose from 'mongoose';
import { currentSession, sessionOption } from '../database/transaction';
import { isDuplicateKey } from '../database/errors';
import { AnalyticsCounter, AnalyticsDelta, AnalyticsState, type AnalyticsDeltaEntry } from '../models/analytics-counter.model';
import { Customer } from '../models/customer.model';
import { Interaction } from '../models/interaction.model';
import { Ticket } from '../models/ticket.model';
import { AppError } from '../utils/app-error';
import { dateBuckets } from '../utils/date-buckets';
import { logger } from '../utils/logger';

// Pre-aggregated counters behind every analytics figure (see models/analytics-counter.model.ts).
//
// Every create, update and delete of a customer, interaction or ticket calls one of the apply*Changes
// functions with the record before and after; the difference (increments of at most three counter documents
// per entity: its day, its month and the all-time totals) is inserted as one delta document. Inserts are
// atomic on FerretDB too, where `$inc` is a read-modify-write that loses concurrent increments. Before a read,
// one folder at a time (a claim shared by all instances) adds the pending deltas into the counters. Bulk
// writers (the importer, cascades) pass a whole batch at once: one delta, never a rebuild.
//
// `rebuildAnalyticsCounters` recomputes everything from the raw collections; it runs by itself the first time
// analytics are read on a database whose counters are missing or of an older layout (COUNTERS_VERSION).

/** Bump when the counter layout changes: the next analytics read rebuilds from the raw collections. */
export const COUNTERS_VERSION = 2;
const STATE_ID = 'counters';
const LOCK_ID = 'rebuild-lock';
/** A claim not refreshed (heartbeat every LOCK_HEARTBEAT_MS) for this long is taken to be from a crashed instance. */
const LOCK_STALE_MS = 60_000;
/** An analytics request waits this long for a rebuild before answering 503 (the rebuild goes on). */
const REBUILD_WAIT_MS = 20_000;

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

export interface Change<T> {
  before: T | null;
  after: T | null;
}

/** Interaction types whose scheduled, past-due records count as overdue. */
export const overdueTypes = ['follow_up', 'task'] as const;

// ---- keys ----

/** Dimension values become field-name segments: no `.`, `$` or `:` (percent-encoded). */
export function encodeSegment(value: string): string {
  return encodeURIComponent(value).replace(/\./g, '%2E');
}

export function decodeSegment(segment: string): string {
  return decodeURIComponent(segment);
}

const idText = (id: Id): string => (id ? String(id) : '');

/** The counter document of an entity's month, or its all-time document. */
export const counterId = (entity: string, month: string | null) => `${entity}|${month ?? 't'}`;
/** Inside an all-time document: current-state totals, and scheduled follow-ups/tasks by due second. */
export const TOTALS = 'totals';
export const duePath = (occursAt: Date) => `due|${occursAt.toISOString().slice(0, 19)}`;

/** A counter field: dimension, value, staff user ('' for none). */
export const counterField = (dimension: string, value: string, user: Id) => `${dimension}:${encodeSegment(value)}:${idText(user)}`;

export interface ParsedField {
  dimension: string;
  value: string;
  user: string;
}

const parsedFields = new Map<string, ParsedField>();

/** Parses (and remembers: the same few thousand fields recur in every document) a counter field. */
export function parseField(field: string): ParsedField {
  let parsed = parsedFields.get(field);
  if (!parsed) {
    const [dimension = '', value = '', user = ''] = field.split(':');
    parsed = { dimension, value: decodeSegment(value), user };
    if (parsedFields.size < 200_000) parsedFields.set(field, parsed);
  }
  return parsed;
}

interface Contribution {
  id: string;
  e: string;
  /** The day, or a path in an all-time document */
  p: string;
  field: string;
  value: number;
}

/** Increments by counter document, then path, then field. */
type Increments = Map<string, { e: string; paths: Map<string, Map<string, number>> }>;

function add(target: Increments, c: Contribution, sign: 1 | -1): void {
  let doc = target.get(c.id);
  if (!doc) {
    doc = { e: c.e, paths: new Map() };
    target.set(c.id, doc);
  }
  let fields = doc.paths.get(c.p);
  if (!fields) {
    fields = new Map();
    doc.paths.set(c.p, fields);
  }
  fields.set(c.field, (fields.get(c.field) ?? 0) + sign * c.value);
}

const daily = (e: string, day: string, field: string, value = 1): Contribution => ({ id: counterId(e, day.slice(0, 7)), e, p: day, field, value });
const total = (e: string, field: string, p = TOTALS): Contribution => ({ id: counterId(e, null), e, p, field, value: 1 });

function customerContributions(customer: CustomerLike): Contribution[] {
  const { day } = dateBuckets(new Date(customer.created_at));
  return [
    daily('c', day, counterField('st', customer.status, customer.owner)),
    daily('c', day, counterField('co', customer.company ?? '', customer.owner)),
    total('c', counterField('st', customer.status, customer.owner)),
  ];
}

function interactionContributions(interaction: InteractionLike): Contribution[] {
  const out = [
    daily('i', interaction.day, counterField('ty', interaction.type, interaction.user)),
    daily('i', interaction.day, counterField('st', interaction.status, interaction.user)),
    total('i', counterField('st', interaction.status, interaction.user)),
  ];
  if (interaction.status === 'scheduled' && (overdueTypes as readonly string[]).includes(interaction.type)) {
    out.push(total('i', counterField('od', interaction.type, interaction.user), duePath(new Date(interaction.occurs_at))));
  }
  return out;
}

function ticketContributions(ticket: TicketLike): Contribution[] {
  const out = [
    daily('t', ticket.created_day, counterField('st', ticket.status, ticket.assigned_to)),
    daily('t', ticket.created_day, counterField('pr', ticket.priority, ticket.assigned_to)),
    total('t', counterField('st', ticket.status, ticket.assigned_to)),
  ];
  if (ticket.resolved_day && ticket.resolution_seconds !== null && ticket.resolution_seconds !== undefined) {
    out.push(daily('r', ticket.resolved_day, counterField('rn', ticket.priority, ticket.assigned_to)));
    out.push(daily('r', ticket.resolved_day, counterField('rs', ticket.priority, ticket.assigned_to), ticket.resolution_seconds));
  }
  return out;
}

function collect<T>(changes: readonly Change<T>[], contributions: (record: T) => Contribution[], target: Increments = new Map()): Increments {
  for (const { before, after } of changes) {
    if (before) for (const c of contributions(before)) add(target, c, -1);
    if (after) for (const c of contributions(after)) add(target, c, 1);
  }
  return target;
}

/** Records the increments as one pending delta document (an insert: atomic on MongoDB and FerretDB alike). */
async function writeDelta(increments: Increments): Promise<void> {
  const entries: AnalyticsDeltaEntry[] = [];
  for (const [id, doc] of increments) {
    for (const [p, fields] of doc.paths) {
      const f = Object.fromEntries([...fields].filter(([, value]) => value !== 0));
      if (Object.keys(f).length > 0) entries.push({ id, e: doc.e, p, f });
    }
  }
  if (entries.length === 0) return;
  await AnalyticsDelta.collection.insertOne({ u: entries }, sessionOption());
}

async function apply(increments: Increments): Promise<void> {
  try {
    await writeDelta(increments);
  } catch (error) {
    // In a transaction the entity write fails with its delta: nothing is saved, the counters stay right.
    if (currentSession()) throw error;
    // The entity itself is saved; rather than serve wrong figures, the next analytics read rebuilds.
    logger.warn({ err: error }, 'analytics counters could not be updated; marking them for a rebuild');
    await markCountersStale().catch(() => undefined);
  }
}

/**
 * Records customer creations (before null), updates and deletions (after null) in the counters. Bulk writers
 * (the importer) call it once per batch: the batch becomes one small delta document.
 */
export function applyCustomerChanges(changes: readonly Change<CustomerLike>[]): Promise<void> {
  return apply(collect(changes, customerContributions));
}

/** Records interaction creations, updates and deletions in the counters. */
export function applyInteractionChanges(changes: readonly Change<InteractionLike>[]): Promise<void> {
  return apply(collect(changes, interactionContributions));
}

/** Records ticket creations, updates and deletions in the counters. */
export function applyTicketChanges(changes: readonly Change<TicketLike>[]): Promise<void> {
  return apply(collect(changes, ticketContributions));
}

// ---- the claim: one folder or rebuilder at a time, across instances ----

const LOCK_HEARTBEAT_MS = 5_000;

/**
 * Runs `work` holding the counters claim (a unique insert in analytics_state; a claim whose holder stopped
 * refreshing it for LOCK_STALE_MS is taken over). Waits at most `maxWaitMs` for the claim (503 after).
 */
async function withClaim<T>(work: () => Promise<T>, maxWaitMs: number): Promise<T> {
  const state = AnalyticsState.collection;
  const token = new mongoose.Types.ObjectId().toHexString();
  const deadline = Date.now() + maxWaitMs;
  for (let attempt = 0; ; attempt += 1) {
    try {
      await state.insertOne({ _id: LOCK_ID as never, token, claimed_at: new Date() });
      break;
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
    const lock = await state.findOne({ _id: LOCK_ID as never });
    const claimedAt = lock?.claimed_at instanceof Date ? lock.claimed_at.getTime() : 0;
    if (lock && Date.now() - claimedAt > LOCK_STALE_MS) {
      await state.deleteOne({ _id: LOCK_ID as never, token: lock.token });
      continue;
    }
    if (Date.now() > deadline) throw rebuildingError();
    await new Promise((resolve) => setTimeout(resolve, Math.min(500, 25 * 2 ** attempt)));
  }
  const heartbeat = setInterval(() => {
    state.updateOne({ _id: LOCK_ID as never, token }, { $set: { claimed_at: new Date() } }).catch(() => undefined);
  }, LOCK_HEARTBEAT_MS);
  try {
    return await work();
  } finally {
    clearInterval(heartbeat);
    await state.deleteOne({ _id: LOCK_ID as never, token });
  }
}

const rebuildingError = () =>
  new AppError(503, 'ANALYTICS_REBUILDING', 'Analytics are being prepared; retry shortly', [], { 'Retry-After': '30' });

// ---- folding pending deltas into the counters ----

/**
 * Adds the deltas marked `fold` into their counter documents. Each document records the fold it last took,
 * so a fold interrupted by a crash and redone never adds a delta twice; the deltas are deleted last.
 */
async function foldMarked(fold: string): Promise<void> {
  const deltas = AnalyticsDelta.collection;
  const marked = await deltas.find({ x: fold }).toArray();
  if (marked.length === 0) return;
  const byDoc = new Map<string, { e: string; entries: AnalyticsDeltaEntry[] }>();
  for (const delta of marked) {
    for (const entry of (delta.u ?? []) as AnalyticsDeltaEntry[]) {
      const doc = byDoc.get(entry.id) ?? { e: entry.e, entries: [] };
      doc.entries.push(entry);
      byDoc.set(entry.id, doc);
    }
  }
  const current = await readStoredDocs([...byDoc.keys()]);
  const writes: mongoose.mongo.AnyBulkWriteOperation[] = [];
  for (const [id, { e, entries }] of byDoc) {
    const stored = current.get(id);
    if (stored?.x === fold) continue;
    const content = stored ? unpack(stored.z) : {};
    for (const entry of entries) {
      const fields = (content[entry.p] ??= {});
      for (const [field, n] of Object.entries(entry.f)) {
        const value = (fields[field] ?? 0) + n;
        if (value === 0) delete fields[field];
        else fields[field] = value;
      }
      if (Object.keys(fields).length === 0) delete content[entry.p];
    }
    writes.push({ replaceOne: { filter: { _id: id as never }, replacement: { e, z: pack(content), x: fold }, upsert: true } });
  }
  // Only the claim holder writes counter documents, so these read-modify-writes cannot race.
  for (let i = 0; i < writes.length; i += 50) await AnalyticsCounter.collection.bulkWrite(writes.slice(i, i + 50));
  await deltas.deleteMany({ x: fold });
}

/** Folds every pending delta into the counters (a no-op costing one small query when there is none). */
export async function foldPendingDeltas(maxWaitMs = REBUILD_WAIT_MS): Promise<void> {
  const deltas = AnalyticsDelta.collection;
  if (!(await deltas.findOne({}, { projection: { _id: 1 } }))) return;
  await withClaim(async () => {
    // A fold interrupted by a crash first, then everything pending now.
    for (;;) {
      const interrupted = await deltas.findOne({ x: { $exists: true } }, { projection: { x: 1 } });
      if (!interrupted) break;
      await foldMarked(String(interrupted.x));
    }
    const fold = new mongoose.Types.ObjectId().toHexString();
    await deltas.updateMany({ x: { $exists: false } }, { $set: { x: fold } });
    await foldMarked(fold);
  }, maxWaitMs);
}

// ---- freshness and rebuild ----

/** Makes the next analytics read rebuild the counters (after a failed update, or a bulk write that skipped them). */
export async function markCountersStale(): Promise<void> {
  verifiedAt = 0;
  await AnalyticsState.collection.deleteOne({ _id: STATE_ID as never });
}

const customerFields = { created_at: 1, status: 1, company: 1, owner: 1 };
const interactionFields = { occurs_at: 1, day: 1, month: 1, type: 1, status: 1, user: 1 };
const ticketFields = {
  created_day: 1,
  created_month: 1,
  status: 1,
  priority: 1,
  assigned_to: 1,
  resolved_day: 1,
  resolved_month: 1,
  resolution_seconds: 1,
};

async function accumulate<T>(collection: mongoose.mongo.Collection, projection: Record<string, number>, contributions: (record: T) => Contribution[], target: Increments) {
  const cursor = collection.find({}, { projection, batchSize: 5000 });
  for await (const record of cursor) for (const c of contributions(record as T)) add(target, c, 1);
}

async function rebuildHoldingClaim(): Promise<{ documents: number; ms: number }> {
  const started = Date.now();
  // Deltas pending now describe changes the raw collections already hold: they are dropped at the end.
  const mark = `rebuild-${new mongoose.Types.ObjectId().toHexString()}`;
  await AnalyticsDelta.collection.updateMany({ x: { $exists: false } }, { $set: { x: mark } });
  const target: Increments = new Map();
  await accumulate<CustomerLike>(Customer.collection, customerFields, customerContributions, target);
  await accumulate<InteractionLike>(Interaction.collection, interactionFields, interactionContributions, target);
  await accumulate<TicketLike>(Ticket.collection, ticketFields, ticketContributions, target);

  const docs = [...target].map(([id, doc]) => {
    const content: CounterContent = {};
    for (const [p, fields] of doc.paths) {
      const kept = Object.fromEntries([...fields].filter(([, value]) => value !== 0));
      if (Object.keys(kept).length > 0) content[p] = kept;
    }
    return { _id: id, e: doc.e, z: pack(content) };
  });
  await AnalyticsCounter.collection.deleteMany({});
  for (let i = 0; i < docs.length; i += 20) {
    await AnalyticsCounter.collection.insertMany(docs.slice(i, i + 20) as never[]);
  }
  await AnalyticsDelta.collection.deleteMany({ x: { $exists: true } });
  await AnalyticsState.collection.updateOne(
    { _id: STATE_ID as never },
    { $set: { version: COUNTERS_VERSION, built_at: new Date() } },
    { upsert: true },
  );
  const ms = Date.now() - started;
  logger.info({ documents: docs.length, ms }, 'analytics counters rebuilt');
  return { documents: docs.length, ms };
}

/**
 * Recomputes every counter from the customers, interactions and tickets collections (streamed; only the
 * counters are held in memory) and records the layout version. Changes written while it scans may be counted
 * twice; it is meant for first use, upgrades and repairs, not routine bulk writes (use apply*Changes).
 */
export function rebuildAnalyticsCounters(maxWaitMs = 10 * 60_000): Promise<{ documents: number; ms: number }> {
  return withClaim(rebuildHoldingClaim, maxWaitMs);
}

async function countersCurrent(): Promise<boolean> {
  const state = await AnalyticsState.collection.findOne({ _id: STATE_ID as never });
  return state?.version === COUNTERS_VERSION;
}

let verifiedAt = 0;
let rebuilding: Promise<void> | undefined;

async function rebuildIfNeeded(): Promise<void> {
  await withClaim(async () => {
    if (!(await countersCurrent())) await rebuildHoldingClaim();
  }, 30 * 60_000);
}

/**
 * Called before every analytics read: rebuilds the counters when they are missing or outdated, then folds the
 * pending deltas. A rebuild longer than REBUILD_WAIT_MS continues in the background and the request answers
 * 503 with Retry-After.
 */
export async function ensureCountersReady(): Promise<void> {
  if (Date.now() - verifiedAt > 2000) {
    if (!(await countersCurrent())) {
      rebuilding ??= rebuildIfNeeded().finally(() => {
        rebuilding = undefined;
      });
      const current = rebuilding;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        current.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), REBUILD_WAIT_MS);
        }),
      ]).finally(() => clearTimeout(timer));
      if (timedOut) {
        current.catch((error: unknown) => logger.error({ err: error }, 'analytics counter rebuild failed'));
        throw rebuildingError();
      }
    }
    verifiedAt = Date.now();
  }
  await foldPendingDeltas();
}

/** A counter document's content: day (or path) → field → count. */
export type CounterContent = Record<string, Record<string, number>>;

function pack(content: CounterContent): mongoose.mongo.Binary {
  return new mongoose.mongo.Binary(deflateRawSync(JSON.stringify(content)));
}

function unpack(z: unknown): CounterContent {
  const bytes = z instanceof mongoose.mongo.Binary ? z.buffer : Buffer.isBuffer(z) ? z : undefined;
  if (!bytes) return {};
  return JSON.parse(inflateRawSync(bytes).toString('utf8')) as CounterContent;
}

interface StoredCounter {
  _id: string;
  z: unknown;
  x?: string;
}

async function readStoredDocs(ids: readonly string[]): Promise<Map<string, StoredCounter>> {
  const out = new Map<string, StoredCounter>();
  if (ids.length === 0) return out;
  // One query: on FerretDB's SQLite backend every query scans the (small) collection.
  const docs = (await AnalyticsCounter.collection.find({ _id: { $in: [...ids] as never[] } }).toArray()) as unknown as StoredCounter[];
  for (const doc of docs) out.set(doc._id, doc);
  return out;
}

/** Counter documents by id, unpacked (missing ones are absent). */
export async function readCounters(ids: readonly string[]): Promise<Map<string, CounterContent>> {
  const docs = await readStoredDocs([...new Set(ids)]);
  return new Map([...docs].map(([id, doc]) => [id, unpack(doc.z)]));
}

// ---- helpers for bulk writes (cascades, reassignment): read what the counters need before the write ----

export function snapshotCustomers(filter: Record<string, unknown>): Promise<CustomerLike[]> {
  return Customer.collection.find(filter, { projection: customerFields, ...sessionOption() }).toArray() as unknown as Promise<CustomerLike[]>;
}

export function snapshotInteractions(filter: Record<string, unknown>): Promise<InteractionLike[]> {
  return Interaction.collection.find(filter, { projection: interactionFields, ...sessionOption() }).toArray() as unknown as Promise<InteractionLike[]>;
}

export function snapshotTickets(filter: Record<string, unknown>): Promise<TicketLike[]> {
  return Ticket.collection.find(filter, { projection: ticketFields, ...sessionOption() }).toArray() as unknown as Promise<TicketLike[]>;
}

export const removed = <T>(records: readonly T[]): Change<T>[] => records.map((before) => ({ before, after: null }));

/**
 * A staff user's records handed to another (user deletion with reassign_to): call before the updates, run the
 * returned function after them.
 */
export async function prepareReassignment(from: mongoose.Types.ObjectId, to: mongoose.Types.ObjectId): Promise<() => Promise<void>> {
  const [customers, interactions, tickets] = await Promise.all([
    snapshotCustomers({ owner: from }),
    snapshotInteractions({ user: from }),
    snapshotTickets({ assigned_to: from }),
  ]);
  return async () => {
    await applyCustomerChanges(customers.map((before) => ({ before, after: { ...before, owner: to } })));
    await applyInteractionChanges(interactions.map((before) => ({ before, after: { ...before, user: to } })));
    await applyTicketChanges(tickets.map((before) => ({ before, after: { ...before, assigned_to: to } })));
  };
}

/** Every counter document, unpacked (diagnostics and tests). */
export async function readAllCounters(): Promise<Record<string, CounterContent>> {
  const docs = (await AnalyticsCounter.collection.find({}).toArray()) as unknown as StoredCounter[];
  return Object.fromEntries(docs.map((doc) => [doc._id, unpack(doc.z)]));
}
