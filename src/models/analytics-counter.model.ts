import mongoose from 'mongoose';

// Pre-aggregated analytics counters (services/analytics/; counter-keys.ts names the stored codes). FerretDB
// 1.x aggregation over hundreds of thousands of documents takes tens of seconds, and its SQLite backend
// answers even an `_id` lookup by scanning and decoding the whole collection. So every analytics figure is
// kept as counters in a few dozen documents: one per (entity, calendar month) holding that month's UTC days,
// plus one all-time document per entity. Each holds `{ <day or path>: { <dimension:value:user>: n } }` as
// deflated JSON in `z`, so a scan decodes a few kilobytes per document instead of thousands of fields.
const analyticsCounterSchema = new mongoose.Schema(
  {
    /** `<entity>|<YYYY-MM>` or `<entity>|t` (entities: c customers, i interactions, t tickets, r resolutions) */
    _id: { type: String, required: true },
    /** The entity code */
    e: { type: String, required: true },
    /** The content, deflated JSON */
    z: { type: Buffer, required: true },
    /** The last fold applied to this document (so a fold interrupted by a crash is not applied twice). */
    x: { type: String },
  },
  { collection: 'analytics_counters', versionKey: false },
);

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
  /** Counter document */
  id: string;
  /** Its entity code */
  e: string;
  /** Day (YYYY-MM-DD) or path inside the document */
  p: string;
  /** Field increments */
  f: Record<string, number>;
}
export const AnalyticsDelta = mongoose.model('AnalyticsDelta', analyticsDeltaSchema);
