import mongoose, { type InferSchemaType } from 'mongoose';

// Idempotency-Key records (SPEC §8): one per (principal, key), `_id` = `<principal>:<sha256(key)>`. Inserting
// it claims the key (a unique insert: atomic on every engine); the holder keeps `lease_until` fresh while its
// request runs, then stores the response. A holder that died stops renewing the lease, and the next request
// with that key takes over (through a takeover claim, one per holder token, below).
const storedHeaderSchema = new mongoose.Schema(
  { name: { type: String, required: true }, value: { type: String, required: true } },
  { _id: false },
);

const idempotencyKeySchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    token: { type: String, required: true },
    // What makes two requests "the same": method and URL, and the SHA-256 of the body's bytes.
    request_hash: { type: String, required: true },
    body_hash: { type: String, default: null },
    state: { type: String, required: true, enum: ['running', 'done'] },
    lease_until: { type: Date, required: true },
    response: {
      type: new mongoose.Schema(
        { status: { type: Number, required: true }, headers: [storedHeaderSchema], body: { type: String, required: true } },
        { _id: false },
      ),
      default: null,
    },
    expires_at: { type: Date, required: true },
  },
  { collection: 'idempotency_keys', versionKey: false, timestamps: false },
);
// The server removes records after their 24 h; without TTL support (FerretDB) the service's sweeper does, and
// an expired record is treated as absent either way.
idempotencyKeySchema.index({ expires_at: 1 }, { expireAfterSeconds: 0 });

export type IdempotencyKeyRecord = InferSchemaType<typeof idempotencyKeySchema>;
export const IdempotencyKey = mongoose.model('IdempotencyKey', idempotencyKeySchema);

// `_id` = `<record id>:<token of the holder being replaced>`: of several requests finding the same dead
// holder, exactly one inserts this and takes the record over.
const idempotencyTakeoverSchema = new mongoose.Schema(
  { _id: { type: String, required: true }, expires_at: { type: Date, required: true } },
  { collection: 'idempotency_takeovers', versionKey: false },
);
idempotencyTakeoverSchema.index({ expires_at: 1 }, { expireAfterSeconds: 0 });

export const IdempotencyTakeover = mongoose.model('IdempotencyTakeover', idempotencyTakeoverSchema);
