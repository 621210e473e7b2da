import mongoose from 'mongoose';
import { Customer } from '../models/customer.model';
import { inTransaction } from '../database/transaction';
import { User, userView, type UserRecord, type UserView } from '../models/user.model';
import type { ListUsersQuery, UpdateUserBody } from '../schemas/user.schema';
import { AppError } from '../utils/app-error';
import { paginate } from '../database/paginate';
import type { Page } from '../utils/paging';
import { hashPassword } from '../utils/password';
import { can, type Principal } from '../utils/principal';
import * as activity from './activity.service';
import { prepareReassignment } from './analytics';
import { assertCurrentPassword, bumpTokenVersion } from './auth.service';
import { reassignUserInteractionRecords, userInteractionRecords } from './dependents.service';
import { countTrashedRecordsOf, reassignTrashedRecords } from './trash-holds.service';
import * as notify from './notifications';
import { duplicateEmailError } from './duplicate-email.service';
import { deleteRefreshTokens } from './token.service';
import { reassignDuplicateMarks } from './duplicates.service';

/** Staff users the caller may see: everyone with users:read-all, otherwise only oneself. */
function maySee(principal: Principal, userId: string): boolean {
  return principal.type === 'user' && (can(principal, 'users:read-all') || principal.id === userId);
}

export async function listUsers(query: ListUsersQuery, principal: Principal): Promise<Page<UserView>> {
  const filter: Record<string, unknown> = query.role ? { role: query.role } : {};
  if (!can(principal, 'users:read-all')) filter._id = new mongoose.Types.ObjectId(principal.id);
  const page = await paginate(User, filter, query);
  return { ...page, items: page.items.map(userView) };
}

/** 400 unless a staff user has this id; `field` (in `location`) is where the request named it. */
export async function assertStaffUser(id: string, field: string, location: 'body' | 'query' = 'body'): Promise<void> {
  if (!(await User.exists({ _id: id }))) {
    throw AppError.validation([{ location, field, message: 'no staff user with this id' }]);
  }
}

async function findVisibleUser(id: string, principal: Principal): Promise<UserRecord> {
  if (!maySee(principal, id)) throw AppError.notFound('User');
  const user = await User.findById(id).lean<UserRecord>();
  if (!user) throw AppError.notFound('User');
  return user;
}

export async function getUser(id: string, principal: Principal) {
  return userView(await findVisibleUser(id, principal));
}

async function countAdmins(): Promise<number> {
  return User.countDocuments({ role: 'ADMIN' });
}

/**
 * ADMINs may change anything of anyone; other staff only their own name, e-mail and password (changing
 * one's own password needs the current one). Changing a password or role invalidates older tokens.
 */
export async function updateUser(id: string, changes: UpdateUserBody, principal: Principal) {
  const target = await findVisibleUser(id, principal);
  const manager = can(principal, 'users:manage');
  const self = principal.id === id;
  if (!manager && !(self && can(principal, 'users:update-self'))) throw AppError.forbidden('You may not change this user');
  if (changes.role !== undefined && changes.role !== target.role) {
    if (!manager) throw AppError.forbidden('Only an ADMIN may change roles');
    if (target.role === 'ADMIN' && (await countAdmins()) <= 1) {
      throw AppError.conflict('The last ADMIN cannot lose the role');
    }
  }

  const set: Record<string, unknown> = {};
  if (changes.name !== undefined) set.name = changes.name;
  if (changes.email !== undefined) set.email = changes.email;
  if (changes.role !== undefined) set.role = changes.role;
  const emailChanged = changes.email !== undefined && changes.email !== target.email;
  if (self && (changes.password !== undefined || emailChanged)) {
    await assertCurrentPassword('user', id, changes.current_password);
  }
  if (changes.password !== undefined) set.password_hash = await hashPassword(changes.password);

  // updateOne + read rather than findOneAndUpdate: FerretDB 1.x cannot project in findAndModify, and the
  // schema's hidden password_hash always adds a projection.
  return inTransaction(async () => {
    await User.updateOne({ _id: id }, { $set: set }, { runValidators: true });
    const credentialsChanged = changes.password !== undefined || (changes.role !== undefined && changes.role !== target.role);
    if (credentialsChanged) await bumpTokenVersion('user', id);
    const updated = await User.findById(id).lean<UserRecord>();
    if (!updated) throw AppError.notFound('User');
    await activity.recordChange(principal, 'user', target, updated, changes.password !== undefined ? ['password'] : []);
    if (changes.password !== undefined) await notify.passwordChanged('user', target, updated);
    return userView(updated);
  }).catch(async (error: unknown) => {
    throw await duplicateEmailError(error, 'user', changes.email, principal);
  });
}

/** What a user owns that must move to someone else before the user can go. */
async function ownedRecords(userId: mongoose.Types.ObjectId) {
  const customers = await Customer.countDocuments({ owner: userId });
  // Records in the trash too: a restore must not bring back a record pointing at a missing user.
  return { customers, ...(await userInteractionRecords(userId)), trashed: await countTrashedRecordsOf(userId) };
}

async function reassignOwnedRecords(from: mongoose.Types.ObjectId, to: mongoose.Types.ObjectId) {
  const recordCounters = await prepareReassignment(from, to);
  await Customer.updateMany({ owner: from }, { $set: { owner: to } });
  await reassignDuplicateMarks(from, to);
  await reassignUserInteractionRecords(from, to);
  await reassignTrashedRecords(from, to);
  await recordCounters();
}

/**
 * Deletes a staff user. If they own records, `reassign_to` names the staff user who takes them over
 * (409 otherwise), so nothing is left pointing at a missing user. The last ADMIN cannot be deleted.
 */
export async function deleteUser(id: string, reassignTo: string | undefined, principal: Principal) {
  return inTransaction(async () => {
    const target = await findVisibleUser(id, principal);
    if (!can(principal, 'users:manage')) throw AppError.forbidden('Only an ADMIN can delete users');
    if (target.role === 'ADMIN' && (await countAdmins()) <= 1) throw AppError.conflict('The last ADMIN cannot be deleted');

    const userId = target._id;
    const owned = await ownedRecords(userId);
    const ownsSomething = Object.values(owned).some((count) => count > 0);
    if (ownsSomething) {
      if (!reassignTo) {
        throw AppError.conflict(
          'This user still owns records: pass reassign_to=<user_id> to hand them over',
          Object.entries(owned)
            .filter(([, count]) => count > 0)
            .map(([field, count]) => ({ field, message: `${count} owned` })),
          'HAS_DEPENDENTS',
        );
      }
      if (reassignTo === id) throw AppError.badRequest('reassign_to must be another user');
      await assertStaffUser(reassignTo, 'reassign_to', 'query');
      await reassignOwnedRecords(userId, new mongoose.Types.ObjectId(reassignTo));
    }
    await User.deleteOne({ _id: userId });
    await deleteRefreshTokens('user', id);
    await activity.recordChange(principal, 'user', target, null);
  });
}
