import mongoose from 'mongoose';

// Hit counters for the shared rate-limit store (RATE_LIMIT_STORE=mongo): one document per limiter and
// client, expiring when its window ends.
const rateLimitSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    hits: { type: Number, required: true },
    reset_at: { type: Date, required: true },
  },
  { collection: 'rate_limits', versionKey: false },
);

rateLimitSchema.index({ reset_at: 1 }, { expireAfterSeconds: 0 });

export const RateLimitCounter = mongoose.model('RateLimitCounter', rateLimitSchema);
