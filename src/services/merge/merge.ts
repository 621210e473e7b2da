import { randomUUID } from 'node:crypto';
import mongoose, { type Types } from 'mongoose';
import { concurrently, inTransaction, sessionOption } from '../../database/transaction';
import { typedCollection } from '../../database/typed-collection';
import { Customer, customerView, type CustomerRecord } from '../../models/customer.model';
import { Merge, mergeView, type MergeDocument } from '../../models/merge.model';
import type { MergeBody } from '../../schemas/merge.schema';
import { AppError } from '../../utils/app-error';
import type { Principal } from '../../utils/principal';
import * as activity from '../activity.service';
import { applyCustomerChanges } from '../analytics';
import { publishEvent } from '../integrations';
import { planFill, storedUpdate, withValues } from './merge-fill';
import { withCustomersLocked } from './merge-lock';
import { findDependents, flatten, moveToTarget } from './merge-move';
import { refreshDuplicateKeysOf, trashSources } from './merge-sources';

// POST /customers/:id/merge. Where the engine has transactions the whole merge is one. Without them (FerretDB)
// the steps run in an order that leaves every interruption recoverable: the merge record first (state
// `running`, naming every record about to move), then the moves (each conditional on the record still pointing
// at its source, so a rerun changes nothing more), the target's new values, the sources to the trash, and the
// record marked `done`. An interrupted merge can be undone like a finished one.

const oid = (id: string) => new mongoose.Types.ObjectId(id);
export const merges = () => typedCollection<MergeDocument>(Merge);

/** A live customer as stored, every hidden field included (what the trash keeps). */
export async function loadCustomer(id: Types.ObjectId): Promise<CustomerRecord | null> {
  return typedCollection<CustomerRecord>(Customer).findOne({ _id: id }, sessionOption());
}

/** The sources in the request's order; an unknown one is a bad reference in the body (400, as owner_id is). */
async function loadSources(ids: string[], target: Types.ObjectId): Promise<CustomerRecord[]> {
  const selfIndex = ids.findIndex((id) => target.equals(id));
  if (selfIndex >= 0) {
    throw AppError.validation([{ location: 'body', field: `source_ids.${selfIndex}`, message: 'the target cannot be merged into itself' }]);
  }
  const rows = await typedCollection<CustomerRecord>(Customer)
    .find({ _id: { $in: ids.map(oid) } }, sessionOption())
    .toArray();
  const found = new Map(rows.map((row) => [row._id.toHexString(), row]));
  const missing = ids.flatMap((id, index) => (found.has(id) ? [] : [index]));
  if (missing.length > 0) {
    throw AppError.validation(
      missing.map((index) => ({ location: 'body', field: `source_ids.${index}`, message: 'no customer with this id' })),
    );
  }
  return ids.flatMap((id) => found.get(id) ?? []);
}

function newMerge(
  id: string,
  target: CustomerRecord,
  sources: CustomerRecord[],
  principal: Principal,
): Omit<MergeDocument, 'filled' | 'tags_added' | 'moved' | 'moved_from'> {
  return {
    _id: id,
    state: 'running',
    target: target._id,
    sources: sources.map((s) => s._id),
    deletion_id: null,
    created_by: { type: principal.type, id: oid(principal.id) },
    created_at: new Date(),
    undone_at: null,
    undo: null,
  };
}

async function runMerge(mergeId: string, targetId: string, body: MergeBody, principal: Principal) {
  const target = await loadCustomer(oid(targetId));
  if (!target) throw AppError.notFound('Customer');
  const sources = await loadSources(body.source_ids, target._id);
  const plan = planFill(target, sources, body.prefer ?? {});
  const movedFrom = await findDependents(sources.map((s) => s._id));
  const merge: MergeDocument = {
    ...newMerge(mergeId, target, sources, principal),
    filled: plan.filled,
    tags_added: plan.tagsAdded,
    moved: flatten(movedFrom),
    moved_from: movedFrom,
  };
  await merges().insertOne(merge, sessionOption());
  await moveToTarget(movedFrom, target._id);

  const now = new Date();
  const after = withValues(
    target,
    plan.filled.map((f) => ({ field: f.field, value: f.after })),
    [...(target.tags ?? []), ...plan.tagsAdded],
  );
  after.updated_at = now;
  await Customer.collection.updateOne({ _id: target._id }, storedUpdate(after, now), sessionOption());
  await applyCustomerChanges([{ before: target, after }]);

  const { deletionId } = await trashSources({ sources, target: target._id, mergeId, principal });
  await merges().updateOne({ _id: mergeId }, { $set: { state: 'done', deletion_id: deletionId } }, sessionOption());
  await refreshDuplicateKeysOf([target._id, ...merge.sources]);
  const done: MergeDocument = { ...merge, state: 'done', deletion_id: deletionId };
  const result = { ...mergeView(done), customer: customerView(after) };
  const fields = [...plan.filled.map((f) => f.field), ...(plan.tagsAdded.length > 0 ? ['tags'] : [])];
  await concurrently(
    () => activity.recordMerge(principal, 'merge', target._id, fields),
    () => publishEvent('customer.merged', () => ({ object: result })),
  );
  return result;
}

/** Merges the sources into the target (see the rule in merge-fill.ts); answers the merge record and the target. */
export async function mergeCustomers(targetId: string, body: MergeBody, principal: Principal) {
  const mergeId = randomUUID();
  const customers = [oid(targetId), ...body.source_ids.map(oid)];
  return inTransaction(() => withCustomersLocked(customers, mergeId, () => runMerge(mergeId, targetId, body, principal)));
}

export async function getMerge(mergeId: string) {
  const merge = await merges().findOne({ _id: mergeId });
  if (!merge) throw AppError.notFound('Merge');
  return mergeView(merge);
}
