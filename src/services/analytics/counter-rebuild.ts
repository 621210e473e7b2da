import mongoose from 'mongoose';
import { typedCollection } from '../../database/typed-collection';
import { AnalyticsDelta, AnalyticsState } from '../../models/analytics-counter.model';
import { Customer } from '../../models/customer.model';
import { Interaction } from '../../models/interaction.model';
import { Ticket } from '../../models/ticket.model';
import { logger } from '../../utils/logger';
import {
  addContribution,
  customerContributions,
  customerFields,
  interactionContributions,
  interactionFields,
  nonZeroFields,
  ticketContributions,
  ticketFields,
  type Contributions,
  type Increments,
} from './contributions';
import { rebuildingError, withCountersClaim } from './counter-claim';
import { foldPendingDeltas, REBUILD_WAIT_MS } from './counter-fold';
import { packContent, storedCounters, type CounterContent } from './counter-store';

// Freshness and rebuild: `rebuildAnalyticsCounters` recomputes every counter from the raw collections; it runs
// by itself the first time analytics are read on a database whose counters are missing or of an older layout
// (COUNTERS_VERSION), or after a write could not record its delta (markCountersStale).

/** Bump when the counter layout changes: the next analytics read rebuilds from the raw collections. */
const COUNTERS_VERSION = 2;
/** The analytics_state document recording the layout version the counters were built with. */
const STATE_ID = 'counters';
/** The counter layout is checked at most this often per instance. */
const VERIFY_EVERY_MS = 2000;
/** How long a rebuild started by a read may wait for the claim (another instance may be rebuilding). */
const REBUILD_CLAIM_WAIT_MS = 30 * 60_000;
/** Counter documents inserted per batch by a rebuild. */
const INSERT_BATCH = 20;

/** The analytics_state collection as stored (string ids; the counters claim shares it, counter-claim.ts). */
const analyticsState = () => typedCollection<{ _id: string; version?: number; built_at?: Date }>(AnalyticsState);

let verifiedAt = 0;
let rebuilding: Promise<void> | undefined;

/** Makes the next analytics read rebuild the counters (after a failed update, or a bulk write that skipped them). */
export async function markCountersStale(): Promise<void> {
  verifiedAt = 0;
  await analyticsState().deleteOne({ _id: STATE_ID });
}

/** Adds what every record of a raw collection contributes. */
async function accumulate<T extends mongoose.mongo.Document>(
  collection: mongoose.mongo.Collection,
  projection: Record<string, number>,
  contributions: Contributions<T>,
  target: Increments,
): Promise<void> {
  const cursor = collection.find<T>({}, { projection, batchSize: 5000 });
  for await (const record of cursor) {
    for (const contribution of contributions(record)) addContribution(target, contribution, 1);
  }
}

/** Every counter document's content, computed from the raw collections (streamed). */
async function countEverything(): Promise<{ _id: string; e: string; z: mongoose.mongo.Binary }[]> {
  const increments: Increments = new Map();
  await accumulate(Customer.collection, customerFields, customerContributions, increments);
  await accumulate(Interaction.collection, interactionFields, interactionContributions, increments);
  await accumulate(Ticket.collection, ticketFields, ticketContributions, increments);
  return [...increments].map(([id, counter]) => {
    const content: CounterContent = {};
    for (const [path, fields] of counter.paths) {
      const kept = nonZeroFields(fields);
      if (kept) content[path] = kept;
    }
    return { _id: id, e: counter.entity, z: packContent(content) };
  });
}

async function rebuildHoldingClaim(): Promise<{ documents: number; ms: number }> {
  const started = Date.now();
  // Deltas pending now describe changes the raw collections already hold: they are dropped at the end.
  const mark = `rebuild-${new mongoose.Types.ObjectId().toHexString()}`;
  await AnalyticsDelta.collection.updateMany({ x: { $exists: false } }, { $set: { x: mark } });
  const counters = await countEverything();
  await storedCounters().deleteMany({});
  for (let start = 0; start < counters.length; start += INSERT_BATCH) {
    await storedCounters().insertMany(counters.slice(start, start + INSERT_BATCH));
  }
  await AnalyticsDelta.collection.deleteMany({ x: { $exists: true } });
  await analyticsState().updateOne({ _id: STATE_ID }, { $set: { version: COUNTERS_VERSION, built_at: new Date() } }, { upsert: true });
  const ms = Date.now() - started;
  logger.info({ documents: counters.length, ms }, 'analytics counters rebuilt');
  return { documents: counters.length, ms };
}

/**
 * Recomputes every counter from the customers, interactions and tickets collections (streamed; only the
 * counters are held in memory) and records the layout version. Changes written while it scans may be counted
 * twice; it is meant for first use, upgrades and repairs, not routine bulk writes (use apply*Changes).
 */
export function rebuildAnalyticsCounters(maxWaitMs = 10 * 60_000): Promise<{ documents: number; ms: number }> {
  return withCountersClaim(rebuildHoldingClaim, maxWaitMs);
}

async function countersCurrent(): Promise<boolean> {
  const state = await analyticsState().findOne({ _id: STATE_ID });
  return state?.version === COUNTERS_VERSION;
}

async function rebuildIfNeeded(): Promise<void> {
  await withCountersClaim(async () => {
    if (!(await countersCurrent())) await rebuildHoldingClaim();
  }, REBUILD_CLAIM_WAIT_MS);
}

/** Starts (or joins) this instance's rebuild and waits REBUILD_WAIT_MS for it; 503 after, the rebuild goes on. */
async function awaitRebuild(): Promise<void> {
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

/**
 * Called before every analytics read: rebuilds the counters when they are missing or outdated, then folds the
 * pending deltas. A rebuild longer than REBUILD_WAIT_MS continues in the background and the request answers
 * 503 with Retry-After.
 */
export async function ensureCountersReady(): Promise<void> {
  if (Date.now() - verifiedAt > VERIFY_EVERY_MS) {
    if (!(await countersCurrent())) await awaitRebuild();
    verifiedAt = Date.now();
  }
  await foldPendingDeltas();
}
