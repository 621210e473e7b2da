import mongoose, { type InferSchemaType, type Types } from 'mongoose';
import { timestamps } from './timestamps';

// In-app notifications (GET /notifications): one per event and recipient, a staff user or a customer.
const notificationSchema = new mongoose.Schema(
  {
    recipient_type: { type: String, required: true, enum: ['user', 'customer'] },
    recipient: { type: mongoose.Schema.Types.ObjectId, required: true },
    event: { type: String, required: true },
    title: { type: String, required: true },
    body: { type: String, required: true },
    // What it is about, so a client can link to it.
    entity: { type: String, required: true, enum: ['user', 'customer', 'interaction', 'ticket', 'webhook'] },
    entity_id: { type: mongoose.Schema.Types.ObjectId, required: true },
    read_at: { type: Date, default: null },
  },
  { collection: 'notifications', timestamps, versionKey: false },
);

// Every query is scoped to one recipient; newest first, optionally unread only.
notificationSchema.index({ recipient: 1, recipient_type: 1, created_at: 1, _id: 1 });
notificationSchema.index({ recipient: 1, recipient_type: 1, read_at: 1, created_at: 1, _id: 1 });

export type NotificationRecord = InferSchemaType<typeof notificationSchema> & { _id: Types.ObjectId };
export const Notification = mongoose.model('Notification', notificationSchema);

export function notificationView(notification: NotificationRecord) {
  const id = notification._id.toHexString();
  return {
    id,
    notification_id: id,
    event: notification.event,
    title: notification.title,
    body: notification.body,
    entity: notification.entity,
    entity_id: notification.entity_id.toHexString(),
    read: notification.read_at !== null && notification.read_at !== undefined,
    read_at: notification.read_at ?? null,
    created_at: notification.created_at,
  };
}
export type NotificationView = ReturnType<typeof notificationView>;
