import { isDuplicateKey } from './errors';

// FerretDB 1.x runs a filtered update or delete as "read the matching documents, then write each by _id",
// so two clients can both pass the same condition (and a write-back can undo another client's change). The
// one write that is atomic between clients on every supported engine is an insert into a unique index:
// whoever inserts a key first owns it. Single-use decisions (SPEC §8) are made this way.

/** Runs one insert: true if it created the document, false if its unique key was taken already. */
export async function insertedFirst(insert: () => Promise<unknown>): Promise<boolean> {
  try {
    await insert();
    return true;
  } catch (error) {
    if (isDuplicateKey(error)) return false;
    throw error;
  }
}
