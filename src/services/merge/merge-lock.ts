import type { Types } from 'mongoose';
import { currentSession, sessionOption } from '../../database/transaction';
import { typedCollection } from '../../database/typed-collection';
import { insertedFirst } from '../../database/unique-insert';
import { MergeLock } from '../../models/merge.model';
import { AppError } from '../../utils/app-error';

// Two merges (or a merge and an undo) never work on the same customer at once: each first inserts one lock per
// customer it names (models/merge.model.ts), and the second answers 409. In a transaction the locks commit or
// roll back with the work (a concurrent transaction meets a write conflict, is retried, and then finds the
// customers as the first left them); without one they are deleted when the work ends, and a crashed holder's
// locks are taken over once older than LOCK_STALE_MS.

const LOCK_STALE_MS = 120_000;
interface LockDocument {
  _id: Types.ObjectId;
  holder: string;
  at: Date;
}
const locks = () => typedCollection<LockDocument>(MergeLock);

async function lock(id: Types.ObjectId, holder: string): Promise<boolean> {
  const insert = () => locks().insertOne({ _id: id, holder, at: new Date() }, sessionOption());
  if (await insertedFirst(insert)) return true;
  if (currentSession()) return false;
  const stale = await locks().deleteOne({ _id: id, at: { $lt: new Date(Date.now() - LOCK_STALE_MS) } });
  return stale.deletedCount > 0 && insertedFirst(insert);
}

/** Runs `work` with these customers locked for `holder` (a merge id); 409 MERGE_IN_PROGRESS if one is taken. */
export async function withCustomersLocked<T>(ids: Types.ObjectId[], holder: string, work: () => Promise<T>): Promise<T> {
  const taken: Types.ObjectId[] = [];
  let done = false;
  try {
    for (const id of [...new Map(ids.map((i) => [i.toHexString(), i])).values()]) {
      if (!(await lock(id, holder))) {
        throw AppError.conflict(
          'Another merge or undo of this customer is under way: try again once it has finished',
          [{ field: 'customer', message: id.toHexString() }],
          'MERGE_IN_PROGRESS',
        );
      }
      taken.push(id);
    }
    const result = await work();
    done = true;
    return result;
  } finally {
    // In a failed transaction the locks roll back with it (and the session refuses further commands).
    if (taken.length > 0 && (done || !currentSession())) {
      await locks().deleteMany({ _id: { $in: taken }, holder }, sessionOption());
    }
  }
}
