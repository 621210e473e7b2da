import { randomUUID } from 'node:crypto';
import type { Types } from 'mongoose';
import { sessionOption } from '../../database/transaction';
import { Customer, type CustomerRecord } from '../../models/customer.model';
import type { Principal } from '../../utils/principal';
import * as activity from '../activity.service';
import { applyCustomerChanges } from '../analytics';
import { deleteRefreshTokens } from '../token.service';

// The one place a merge hands its sources to the trash and an undo takes them back. INTERIM: the trash service
// (trashRecords / restoreDeletion, branch `trash`) has not landed; until it does the sources are deleted
// outright here and cannot come back. Swap these two functions for the trash service's calls.

export async function trashSources(input: {
  sources: CustomerRecord[];
  target: Types.ObjectId;
  mergeId: string;
  principal: Principal;
}): Promise<{ deletionId: string }> {
  const ids = input.sources.map((s) => s._id);
  await Customer.collection.deleteMany({ _id: { $in: ids } }, sessionOption());
  await applyCustomerChanges(input.sources.map((before) => ({ before, after: null })));
  for (const source of input.sources) {
    await deleteRefreshTokens('customer', source._id.toHexString());
    await activity.recordChange(input.principal, 'customer', source, null);
  }
  return { deletionId: randomUUID() };
}

/** `gone`: the deletion was purged (or never kept), the sources cannot come back. */
export function restoreSources(_deletionId: string, _principal: Principal): Promise<'restored' | 'gone'> {
  return Promise.resolve('gone');
}
