import mongoose from 'mongoose';
import { engineCapabilities } from '../../database/capabilities';
import { inTransaction, sessionOption } from '../../database/transaction';
import { typedCollection } from '../../database/typed-collection';
import { insertedFirst } from '../../database/unique-insert';
import { Customer, customerView, type CustomerRecord } from '../../models/customer.model';
import { MergeUndo, mergeView, type MergeConflict, type MergeDocument } from '../../models/merge.model';
import { AppError } from '../../utils/app-error';
import type { Principal } from '../../utils/principal';
import * as activity from '../activity.service';
import { applyCustomerChanges } from '../analytics';
import { publishChange } from '../integrations';
import { currentValue, storedUpdate, withValues } from './merge-fill';
import { withCustomersLocked } from './merge-lock';
import { moveBack, splitMovable } from './merge-move';
import { loadCustomer, merges } from './merge';
import { refreshDuplicateKeysOf, restoreSources } from './merge-sources';

// POST /merges/:merge_id/undo: the sources come back from the trash (same ids), then exactly what the merge
// moved goes back to the source it came from where it still points at the target, and the target's filled
// fields and added tags are reverted where they still hold what the merge set. Everything else changed since
// the merge is left as it is and listed as a conflict. One transaction where the engine has them; without, the
// steps are ordered and conditional, so an interrupted undo can be run again.

const undoClaims = () => typedCollection<{ _id: string; at: Date }>(MergeUndo);
const alreadyUndone = () => AppError.conflict('This merge has already been undone', [], 'ALREADY_UNDONE');

/** The sources back from the trash; 410 past the trash retention, once they may be purged. */
async function restoreMergedSources(merge: MergeDocument, principal: Principal): Promise<void> {
  const outcome = await restoreSources(merge._id, merge.deletion_id, principal);
  if (outcome === 'restored') return;
  // No deletion of this merge in the trash: purged, never made (a merge interrupted before that step), or
  // restored by an earlier, interrupted undo. Fine as long as every source is live.
  const live = outcome === 'gone' ? await Customer.collection.countDocuments({ _id: { $in: merge.sources } }, sessionOption()) : 0;
  if (live !== merge.sources.length) {
    throw new AppError(410, 'MERGE_EXPIRED', 'The merged customers are past the trash retention: this merge can no longer be undone');
  }
}

/** The target with its filled fields and added tags reverted where the merge's values still hold. */
function revertTarget(merge: MergeDocument, target: CustomerRecord) {
  const conflicts: MergeConflict[] = [];
  const reverted: { field: string; value: string | null }[] = [];
  for (const filled of merge.filled) {
    if (currentValue(target, filled.field) === filled.after) reverted.push({ field: filled.field, value: filled.before });
    else conflicts.push({ kind: 'fields', id: filled.field, reason: 'changed since the merge' });
  }
  const added = new Set(merge.tags_added);
  const tags = (target.tags ?? []).filter((tag) => !added.has(tag));
  const fields = [...reverted.map((r) => r.field), ...(tags.length !== (target.tags ?? []).length ? ['tags'] : [])];
  return { after: withValues(target, reverted, tags), conflicts, fields };
}

async function runUndo(merge: MergeDocument, principal: Principal, claim: { taken: boolean }) {
  if (!(await insertedFirst(() => undoClaims().insertOne({ _id: merge._id, at: new Date() }, sessionOption())))) {
    throw alreadyUndone();
  }
  claim.taken = true;
  if (!(await loadCustomer(merge.target))) {
    throw AppError.conflict('The target customer is not live (deleted or merged since): restore it first', [], 'TARGET_GONE');
  }
  await restoreMergedSources(merge, principal);
  const { movable, conflicts } = await splitMovable(merge.moved_from, merge.target);
  await moveBack(movable, merge.target);

  const target = await loadCustomer(merge.target);
  if (!target) throw AppError.notFound('Customer');
  const reverted = revertTarget(merge, target);
  const now = new Date();
  reverted.after.updated_at = now;
  await Customer.collection.updateOne({ _id: target._id }, storedUpdate(reverted.after, now), sessionOption());
  await applyCustomerChanges([{ before: target, after: reverted.after }]);
  const undo = {
    by: { type: principal.type, id: new mongoose.Types.ObjectId(principal.id) },
    conflicts: [...conflicts, ...reverted.conflicts],
  };
  await merges().updateOne({ _id: merge._id }, { $set: { state: 'undone', undone_at: now, undo } }, sessionOption());
  await refreshDuplicateKeysOf([target._id, ...merge.sources]);
  await activity.recordMerge(principal, 'unmerge', target._id, reverted.fields);
  await publishChange('customer', target, reverted.after);
  return { ...mergeView({ ...merge, state: 'undone', undone_at: now, undo }), customer: customerView(reverted.after) };
}

export async function undoMerge(mergeId: string, principal: Principal) {
  const merge = await merges().findOne({ _id: mergeId });
  if (!merge) throw AppError.notFound('Merge');
  if (merge.undone_at !== null) throw alreadyUndone();
  const claim = { taken: false };
  try {
    return await inTransaction(() =>
      withCustomersLocked([merge.target, ...merge.sources], merge._id, () => runUndo(merge, principal, claim)),
    );
  } catch (error) {
    // Without a transaction this undo's claim outlives its failure: release it so the undo can be run again (its
    // steps are conditional). In a transaction it rolled back with the rest.
    if (!engineCapabilities().transactions && claim.taken) await undoClaims().deleteOne({ _id: merge._id });
    throw error;
  }
}
