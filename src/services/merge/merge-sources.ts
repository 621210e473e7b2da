import { refreshDuplicateKeys } from '../duplicates.service';
import type { Types } from 'mongoose';
import { config } from '../../config/env';
import { sessionOption } from '../../database/transaction';
import { typedCollection } from '../../database/typed-collection';
import type { CustomerRecord } from '../../models/customer.model';
import { Deletion, type DeletionRecord } from '../../models/trash.model';
import type { Principal } from '../../utils/principal';
import { restoreDeletion, trashRecords } from '../trash.service';

// The merge's calls into the other hygiene services, in one place: it hands its sources to the trash (one
// deletion, reason `merge`, naming the target and the merge), an undo takes them back (the trash's own restore,
// which re-inserts them with their ids), and both tell the duplicate keys which customers changed.

export async function trashSources(input: {
  sources: CustomerRecord[];
  target: Types.ObjectId;
  mergeId: string;
  principal: Principal;
}): Promise<{ deletionId: string }> {
  const [first] = input.sources;
  if (!first) throw new Error('trashSources: a merge has at least one source');
  return trashRecords({
    customers: input.sources,
    root: { entity: 'customer', record_id: first._id },
    reason: 'merge',
    mergedInto: input.target,
    mergeId: input.mergeId,
    principal: input.principal,
  });
}

/** The deletion holding a merge's sources: the one it recorded, or (interrupted before recording it) by merge id. */
async function deletionOf(mergeId: string, deletionId: string | null): Promise<DeletionRecord | null> {
  const filter = deletionId === null ? { merge_id: mergeId } : { _id: deletionId };
  return typedCollection<DeletionRecord>(Deletion).findOne(filter, sessionOption());
}

/**
 * Brings the sources back: `restored`; `expired` past the trash retention (even before the purge has run);
 * `gone` when the trash holds no deletion of this merge (purged, never trashed, or restored already).
 */
export async function restoreSources(
  mergeId: string,
  deletionId: string | null,
  principal: Principal,
): Promise<'restored' | 'expired' | 'gone'> {
  const deletion = await deletionOf(mergeId, deletionId);
  if (!deletion) return 'gone';
  if (deletion.deleted_at.getTime() + config.trash.retentionMs <= Date.now()) return 'expired';
  await restoreDeletion(deletion._id, principal);
  return 'restored';
}

/**
 * The target's values and the sources' presence changed (merge, undo): their stored duplicate keys and marks
 * follow (the marks of ids no longer live, trashed sources, are dropped).
 */
export function refreshDuplicateKeysOf(customerIds: Types.ObjectId[]): Promise<void> {
  return refreshDuplicateKeys(customerIds);
}
