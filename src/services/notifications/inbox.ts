import mongoose from 'mongoose';
import { Notification, notificationView, type NotificationRecord, type NotificationView } from '../../models/notification.model';
import type { ListNotificationsQuery } from '../../schemas/notification.schema';
import { AppError } from '../../utils/app-error';
import { paginate } from '../../database/paginate';
import type { Page } from '../../utils/paging';
import type { Principal } from '../../utils/principal';

// In-app notifications: every query is scoped to the caller, so another principal's notification is not
// found (404), never forbidden.

function ownScope(principal: Principal) {
  return { recipient: new mongoose.Types.ObjectId(principal.id), recipient_type: principal.type };
}

export async function listNotifications(query: ListNotificationsQuery, principal: Principal): Promise<Page<NotificationView>> {
  const filter: Record<string, unknown> = ownScope(principal);
  if (query.unread) filter.read_at = null;
  const page = await paginate(Notification, filter, query);
  return { ...page, items: page.items.map(notificationView) };
}

export async function markRead(id: string, principal: Principal) {
  const filter = { ...ownScope(principal), _id: new mongoose.Types.ObjectId(id) };
  const existing = await Notification.findOne(filter).lean<NotificationRecord>();
  if (!existing) throw AppError.notFound('Notification');
  if (!existing.read_at) await Notification.updateOne({ ...filter, read_at: null }, { $set: { read_at: new Date() } });
  const updated = await Notification.findOne(filter).lean<NotificationRecord>();
  if (!updated) throw AppError.notFound('Notification');
  return notificationView(updated);
}

export async function markAllRead(principal: Principal): Promise<number> {
  const result = await Notification.updateMany({ ...ownScope(principal), read_at: null }, { $set: { read_at: new Date() } });
  return result.modifiedCount;
}
