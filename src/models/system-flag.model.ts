import mongoose from 'mongoose';

// One-off markers claimed atomically by a unique _id, e.g. "the first staff account has been created",
// so two concurrent first sign-ups cannot both become ADMIN (FerretDB has no transactions).
const systemFlagSchema = new mongoose.Schema(
  { _id: { type: String, required: true }, set_at: { type: Date, required: true, default: () => new Date() } },
  { collection: 'system_flags', versionKey: false },
);

export const SystemFlag = mongoose.model('SystemFlag', systemFlagSchema);
