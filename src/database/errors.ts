import mongoose from 'mongoose';

// A unique index refused the write: the answer to "did someone else get there first?" for every claim made
// by a unique insert (bootstrap flag, outbox claim, rate-limit window, lock-out slot, counters claim) and
// the 409 of the error handler. MongoDB and SecantusDB say it with code 11000, and so does FerretDB 1.x for
// an insert; for a collision inside an update or upsert FerretDB 1.x answers a generic InternalError that
// carries the SQL backend's text: SQLite's "UNIQUE constraint failed", PostgreSQL's "duplicate key value
// violates unique constraint".
const sqlUniqueViolation = /UNIQUE constraint failed|duplicate key/i;

export function isDuplicateKey(error: unknown): error is mongoose.mongo.MongoServerError {
  if (!(error instanceof mongoose.mongo.MongoServerError)) return false;
  return error.code === 11000 || sqlUniqueViolation.test(error.message);
}

// The driver's (and Mongoose's) errors for a server it cannot reach or lost the connection to.
const connectionErrorNames = new Set([
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoPoolClearedError',
]);

/** The database could not be reached (or the connection was lost), as opposed to a refused command. */
export function isConnectionError(error: unknown): boolean {
  return error instanceof Error && connectionErrorNames.has(error.name);
}
