import mongoose from 'mongoose';

// Pre-aggregated analytics counters (services/analytics-counters.service.ts). FerretDB 1.x aggregation over
// hundreds of thousands of documents takes tens of seconds, so every figure the analytics routes report is
// kept as counters: one small document per (entity, granularity, calendar bucket), whose
// `c` map holds the counts by dimension value and staff user, e.g. `c["ty:meeting:<user id>"] = 12`.
// The _id is deterministic (`i|d|2024-03-05`), so a query reads a known list of ids and needs no range scan.
const analyticsCounterSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    /** c = customers (by creation day), i = interactions (by occurs_at day), t = tickets (by creation day), r = tickets by resolution day */
    e: { type: String, required: true },
    /** d = UTC day, m = calendar month, t = all time (current-state totals) */
    g: { type: String, required: true },
    /** YYYY-MM-DD, YYYY-MM or '' */
    b: { type: String, required: true, default: '' },
    c: { type: mongoose.Schema.Types.Mixed, default: {} },
    /** The last fold applied to this document (so a fold interrupted by a crash is not applied twice). */
    x: { type: String },
  },
  { collection: 'analytics_counters', versionKey: false, minimize: false },
);

// Month documents are listed by entity and granularity (overdue figures read every past month).
analyticsCounterSchema.index({ e: 1, g: 1, b: 1 });

export interface AnalyticsCounterRecord {
  _id: string;
  e: string;
  g: string;
  b: string;
  c: Record<string, number>;
  x?: string;
}
export const AnalyticsCounter = mongoose.model('AnalyticsCounter', analyticsCounterSchema);

// The counters' state: which version of the counter layout they were built with, and a rebuild claim.
const analyticsStateSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    version: { type: Number },
    built_at: { type: Date },
    claimed_at: { type: Date },
  },
  { collection: 'analytics_state', versionKey: false },
);

export const AnalyticsState = mongoose.model('AnalyticsState', analyticsStateSchema);

// Pending counter changes. FerretDB 1.x applies `$inc` as read-modify-write, so concurrent increments of one
// document lose updates; inserts are atomic everywhere. Every write therefore inserts one delta document, and
// a single folder (under a claim in analytics_state) adds pending deltas into the counters before a read.
const analyticsDeltaSchema = new mongoose.Schema(
  {
    /** The increments: one entry per counter document. */
    u: { type: [mongoose.Schema.Types.Mixed], required: true },
    /** The fold that claimed this delta (absent while pending). */
    x: { type: String },
  },
  { collection: 'analytics_deltas', versionKey: false },
);

analyticsDeltaSchema.index({ x: 1 });

export interface AnalyticsDeltaEntry {
  id: string;
  e: string;
  g: string;
  b: string;
  f: Record<string, number>;
}
export const AnalyticsDelta = mongoose.model('AnalyticsDelta', analyticsDeltaSchema);
