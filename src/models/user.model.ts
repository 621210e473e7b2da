import mongoose, { type InferSchemaType, type Types } from 'mongoose';
import { staffRoles } from '../config/permissions';
import { timestamps } from './timestamps';

const userSchema = new mongoose.Schema(
  {
    name: { type: String, required: true, trim: true, maxlength: 200 },
    email: { type: String, required: true, lowercase: true, trim: true, maxlength: 254 },
    password_hash: { type: String, required: true, select: false },
    role: { type: String, required: true, enum: staffRoles, default: 'USER' },
    // Bumped on password change, role change and "log out everywhere": tokens carrying an older
    // version are refused.
    token_version: { type: Number, required: true, default: 0 },
    last_login_at: { type: Date },
  },
  { collection: 'users', timestamps, versionKey: false },
);

userSchema.index({ email: 1 }, { unique: true });
// List sorts: every sortable field paired with _id, so keyset paging is index-served.
userSchema.index({ name: 1, _id: 1 });
userSchema.index({ created_at: 1, _id: 1 });
userSchema.index({ role: 1, created_at: 1, _id: 1 });

export type UserFields = InferSchemaType<typeof userSchema>;
export type UserRecord = UserFields & { _id: Types.ObjectId };
export const User = mongoose.model('User', userSchema);

/** The public shape of a staff user (SPEC §2): `id` and `user_id`, snake_case, no secrets. */
export function userView(user: UserRecord) {
  const id = user._id.toHexString();
  return {
    id,
    user_id: id,
    name: user.name,
    email: user.email,
    role: user.role,
    created_at: user.created_at,
    updated_at: user.updated_at,
  };
}
export type UserView = ReturnType<typeof userView>;
