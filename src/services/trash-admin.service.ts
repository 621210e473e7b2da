import mongoose from 'mongoose';
import { z } from 'zod';
import { config } from '../config/env';
import { typedCollection } from '../database/typed-collection';
import { customerView, type CustomerRecord } from '../models/customer.model';
import { customerInteractionView, type InteractionRecord } from '../models/interaction.model';
import { ticketView, type TicketRecord } from '../models/ticket.model';
import { Deletion, deletionView, TrashItem, type DeletionRecord, type DeletionView, type TrashItemRecord } from '../models/trash.model';
import type { ListTrashQuery } from '../schemas/trash.schema';
import { AppError } from '../utils/app-error';
import { logger } from '../utils/logger';
import type { Page } from '../utils/paging';
import type { Principal } from '../utils/principal';
import { findDeletion, restoreDeletion, type RestoreResult } from './trash.service';

// The trash routes (GET /trash, GET/DELETE /trash/:deletion_id, POST …/restore) and the background purge of
// deletions older than TRASH_RETENTION_DAYS. Deletion ids are UUIDs, so the list pages on (deleted_at, _id)
// with a cursor of its own rather than database/paginate.ts, whose cursors carry ObjectIds.

const cursorSchema = z.object({ v: z.iso.datetime(), id: z.uuid() }).strict();

function encodeCursor(row: DeletionRecord): string {
  return Buffer.from(JSON.stringify({ v: row.deleted_at.toISOString(), id: row._id })).toString('base64url');
}

function decodeCursor(raw: string): { v: Date; id: string } {
  try {
    const cursor = cursorSchema.parse(JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')));
    return { v: new Date(cursor.v), id: cursor.id };
  } catch {
    throw AppError.validation([{ location: 'query', field: 'after', message: 'invalid cursor for this sort order' }]);
  }
}

function trashFilter(query: ListTrashQuery): Record<string, unknown> {
  const filter: Record<string, unknown> = {};
  if (query.entity) filter.entity = query.entity;
  if (query.deleted_by) filter['deleted_by.id'] = new mongoose.Types.ObjectId(query.deleted_by);
  if (query.from || query.to) filter.deleted_at = { ...(query.from ? { $gte: query.from } : {}), ...(query.to ? { $lt: query.to } : {}) };
  return filter;
}

/** Deletions, newest first by default (`sort=deleted_at`: oldest first), filtered by entity, who deleted and when. */
export async function listTrash(query: ListTrashQuery): Promise<Page<DeletionView>> {
  const direction = query.sort.startsWith('-') ? -1 : 1;
  const filter = trashFilter(query);
  let find = filter;
  let skip = 0;
  if (query.after) {
    const cursor = decodeCursor(query.after);
    const op = direction === -1 ? '$lt' : '$gt';
    find = { $and: [filter, { $or: [{ deleted_at: { [op]: cursor.v } }, { deleted_at: cursor.v, _id: { [op]: cursor.id } }] }] };
  } else {
    skip = ((query.page ?? 1) - 1) * query.limit;
  }
  const collection = typedCollection<DeletionRecord>(Deletion);
  const rows = await collection
    .find(find)
    .sort({ deleted_at: direction, _id: direction })
    .skip(skip)
    .limit(query.limit + 1)
    .toArray();
  const hasMore = rows.length > query.limit;
  const items = hasMore ? rows.slice(0, query.limit) : rows;
  let total: number | undefined;
  if (!query.after) total = !hasMore && (items.length > 0 || skip === 0) ? skip + items.length : await collection.countDocuments(filter);
  const last = items.at(-1);
  return {
    items: items.map(deletionView),
    total,
    page: query.after ? undefined : (query.page ?? 1),
    limit: query.limit,
    nextCursor: hasMore && last ? encodeCursor(last) : undefined,
  };
}

function itemView(item: TrashItemRecord) {
  // The public shapes: never a password hash or search keys; an interaction without its encrypted notes.
  const record =
    item.entity === 'customer'
      ? customerView(item.record as unknown as CustomerRecord)
      : item.entity === 'interaction'
        ? customerInteractionView(item.record as unknown as InteractionRecord)
        : ticketView(item.record as unknown as TicketRecord);
  return { entity: item.entity, record_id: item.record_id.toHexString(), record };
}

/** One deletion with its records (customers, then interactions, then tickets). */
export async function getTrashDeletion(deletionId: string) {
  const deletion = await findDeletion(deletionId);
  const items = await typedCollection<TrashItemRecord>(TrashItem).find({ deletion_id: deletionId }).toArray();
  const order = { customer: 0, interaction: 1, ticket: 2 } as const;
  items.sort((a, b) => order[a.entity] - order[b.entity]);
  return { ...deletionView(deletion), items: items.map(itemView) };
}

/** POST /trash/:deletion_id/restore: a merge's deletion comes back only with its merge (409 naming the undo route). */
export async function restoreFromTrash(deletionId: string, principal: Principal): Promise<RestoreResult> {
  const deletion = await findDeletion(deletionId);
  if (deletion.reason === 'merge') {
    const undo = `POST /merges/${deletion.merge_id ?? ':merge_id'}/undo`;
    throw AppError.conflict(
      `This deletion removed the sources of a merge: undo the merge instead (${undo})`,
      [{ field: 'merge_id', message: undo }],
      'MERGE_DELETION',
    );
  }
  return restoreDeletion(deletionId, principal);
}

/** Removes deletions for good: their trash items first, then the deletion documents (idempotent, re-runnable). */
async function purgeDeletions(ids: string[]): Promise<number> {
  if (ids.length === 0) return 0;
  await TrashItem.collection.deleteMany({ deletion_id: { $in: ids } });
  const { deletedCount } = await typedCollection<DeletionRecord>(Deletion).deleteMany({ _id: { $in: ids } });
  return deletedCount;
}

/** DELETE /trash/:deletion_id (ADMIN): purged now, beyond any restore. */
export async function purgeTrashDeletion(deletionId: string): Promise<void> {
  await findDeletion(deletionId);
  await purgeDeletions([deletionId]);
}

/**
 * One pass of the background purge: every deletion older than the retention, in batches of
 * TRASH_PURGE_BATCH_SIZE, oldest first. Several instances may run it at once: the deletes are by id and
 * idempotent, so two passes at worst remove the same batch twice. Answers how many deletions this pass removed.
 */
export async function purgeExpiredTrash(now = new Date()): Promise<number> {
  const cutoff = new Date(now.getTime() - config.trash.retentionMs);
  const collection = typedCollection<DeletionRecord>(Deletion);
  let purged = 0;
  for (;;) {
    const batch = await collection
      .find({ deleted_at: { $lt: cutoff } }, { projection: { _id: 1 } })
      .sort({ deleted_at: 1, _id: 1 })
      .limit(config.trash.purgeBatchSize)
      .toArray();
    purged += await purgeDeletions(batch.map((row) => row._id));
    if (batch.length < config.trash.purgeBatchSize) return purged;
  }
}

/** Runs the purge every TRASH_PURGE_INTERVAL_MS (not keeping the process alive). */
export function startTrashPurger(): NodeJS.Timeout {
  const timer = setInterval(() => {
    purgeExpiredTrash()
      .then((purged) => {
        if (purged > 0) logger.info({ purged }, 'trash purged: deletions older than the retention removed');
      })
      .catch((error: unknown) => logger.warn({ err: error }, 'trash purge failed'));
  }, config.trash.purgeIntervalMs);
  timer.unref();
  return timer;
}
