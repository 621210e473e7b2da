import mongoose from 'mongoose';

// Markers claimed atomically by a unique _id (FerretDB has no transactions): "the first staff account has
// been created", so two concurrent first sign-ups cannot both become ADMIN; "a sign-up notice went to this
// address within the hour" (services/notifications/events.ts).
const systemFlagSchema = new mongoose.Schema(
  { _id: { type: String, required: true }, set_at: { type: Date, required: true, default: () => new Date() } },
  { collection: 'system_flags', versionKey: false },
);

export const SystemFlag = mongoose.model('SystemFlag', systemFlagSchema);
