import mongoose from 'mongoose';
import { config } from '../config/env';
import { rolePermissions, type StaffRole } from '../config/permissions';
import { companyKey, Customer, customerView, searchTermsFor, type CustomerRecord } from '../models/customer.model';
import { SystemFlag } from '../models/system-flag.model';
import { User, userView, type UserRecord } from '../models/user.model';
import type { SigninBody } from '../schemas/auth.schema';
import type { SignupCustomerBody } from '../schemas/customer.schema';
import type { SignupUserBody } from '../schemas/user.schema';
import { AppError } from '../utils/app-error';
import { hashPassword, verifyPassword } from '../utils/password';
import { can, type Principal } from '../utils/principal';
import { concurrently, inTransaction } from '../database/transaction';
import { isDuplicateKey } from '../database/errors';
import { duplicateEmailError } from './duplicate-email.service';
import { assertEmailNotTrashed } from './trash-holds.service';
import { queueDuplicateMarks } from './duplicate-marker.service';
import { duplicateKeysFor } from '../utils/duplicate-keys';
import { insertedFirst } from '../database/unique-insert';
import * as activity from './activity.service';
import { applyCustomerChanges } from './analytics';
import * as throttle from './login-throttle.service';
import * as notify from './notifications';
import { cachedAccountState } from '../database/principal-cache';
import {
  consumeRefreshToken,
  issueAccessToken,
  issueRefreshToken,
  issueSuccessorRefreshToken,
  revokeAllRefreshTokens,
  revokeFamily,
  revokeRefreshToken,
  type AccessClaims,
  type PrincipalType,
  type TokenSubject,
} from './token.service';

const BOOTSTRAP_FLAG = 'first-staff-account';

/** A staff account's current token version and role (null once deleted), shared for a moment (principal-cache). */
export function staffAccountState(userId: string) {
  return cachedAccountState(User.collection.collectionName, userId, async () => {
    const found = await User.findById(new mongoose.Types.ObjectId(userId), { role: 1, token_version: 1 }).lean();
    return found ? { tokenVersion: found.token_version, role: found.role } : null;
  });
}

/** Maps a verified access token to the current principal; a deleted account or older token version is 401. */
export async function resolvePrincipal(claims: AccessClaims): Promise<Principal> {
  const id = new mongoose.Types.ObjectId(claims.sub);
  if (claims.typ === 'user') {
    const user = await staffAccountState(claims.sub);
    if (!user || user.tokenVersion !== claims.ver) throw new AppError(401, 'TOKEN_REVOKED', 'Token is no longer valid');
    return { type: 'user', id: claims.sub, role: user.role as StaffRole };
  }
  const customer = await cachedAccountState(Customer.collection.collectionName, claims.sub, async () => {
    const found = await Customer.findById(id, { token_version: 1 }).lean();
    return found ? { tokenVersion: found.token_version } : null;
  });
  if (!customer || customer.tokenVersion !== claims.ver) throw new AppError(401, 'TOKEN_REVOKED', 'Token is no longer valid');
  return { type: 'customer', id: claims.sub, role: 'CUSTOMER' };
}

async function issueTokens(subject: TokenSubject, familyId?: string) {
  return {
    token: issueAccessToken(subject),
    refresh_token: familyId ? await issueSuccessorRefreshToken(subject, familyId) : await issueRefreshToken(subject),
    token_type: 'Bearer' as const,
    expires_in: config.auth.accessTokenTtlSeconds,
  };
}

function userSubject(user: UserRecord): TokenSubject {
  return { type: 'user', id: user._id.toHexString(), role: user.role, tokenVersion: user.token_version };
}

function customerSubject(customer: CustomerRecord): TokenSubject {
  return { type: 'customer', id: customer._id.toHexString(), role: 'CUSTOMER', tokenVersion: customer.token_version };
}

/** `actor` 'self': the account creates itself (the bootstrap ADMIN). */
async function createStaffUser(input: { name: string; email: string; password: string; role: StaffRole }, actor: activity.Actor | 'self') {
  const user = await User.create({
    name: input.name,
    email: input.email,
    role: input.role,
    password_hash: await hashPassword(input.password),
  });
  const record = user.toObject<UserRecord>();
  await activity.recordChange(
    actor === 'self' ? { type: 'user', id: record._id.toHexString(), role: record.role } : actor,
    'user',
    null,
    record,
  );
  return record;
}

/**
 * Staff sign-up. The very first staff account becomes ADMIN (claimed through a unique flag, so two
 * concurrent first sign-ups cannot both win); afterwards only an ADMIN may create staff users, and only an
 * ADMIN may choose a role.
 */
export async function signupUser(input: SignupUserBody, caller: Principal | undefined) {
  if (!caller && !(await User.exists({}))) {
    const claimed = await insertedFirst(() => SystemFlag.create({ _id: BOOTSTRAP_FLAG }));
    if (claimed) {
      if (input.role && input.role !== 'ADMIN') {
        await SystemFlag.deleteOne({ _id: BOOTSTRAP_FLAG });
        throw AppError.badRequest('The first staff account is always an ADMIN', [
          { location: 'body', field: 'role', message: 'must be ADMIN or absent' },
        ]);
      }
      try {
        return userView(await createStaffUser({ ...input, role: 'ADMIN' }, 'self'));
      } catch (error) {
        await SystemFlag.deleteOne({ _id: BOOTSTRAP_FLAG });
        throw error;
      }
    }
  }
  if (!caller) throw AppError.unauthorized('Only an ADMIN can create staff users once the first account exists');
  if (!can(caller, 'users:create')) {
    throw AppError.forbidden(input.role ? 'Only an ADMIN may assign a role' : 'Only an ADMIN can create staff users');
  }
  const user = await createStaffUser({ ...input, role: input.role ?? 'USER' }, caller).catch(async (error: unknown) => {
    throw await duplicateEmailError(error, 'user', input.email, caller);
  });
  return userView(user);
}

/**
 * Customer self-registration (public). The answer must not tell whether an address is on record: for a
 * contact that staff entered and that has no password yet, it answers exactly as a new sign-up would (an
 * id that belongs to nothing), creates and changes nothing, and e-mails the address a notice instead — a
 * sign-up must never attach a password to an existing record. The password is hashed first on every path
 * so both take about the same time. An address that already signs in stays a duplicate (409 from the
 * unique index, SPEC §5): that customer is told to sign in instead.
 */
export async function signupCustomer(input: SignupCustomerBody) {
  if (input.role !== undefined) throw AppError.forbidden('Customers cannot choose a role');
  const { role: _role, password, ...fields } = input;
  const passwordHash = await hashPassword(password);
  const existing = await Customer.findOne({ email: fields.email }).select('+password_hash').lean<CustomerRecord>();
  if (existing && !existing.password_hash) {
    await notify.signupForExistingContact(existing);
    return new mongoose.Types.ObjectId().toHexString();
  }
  const record = await inTransaction(async () => {
    const customer = await Customer.create({
      ...fields,
      password_hash: passwordHash,
      status: 'lead',
      search_terms: searchTermsFor(fields),
      company_key: companyKey(fields.company),
      ...duplicateKeysFor({ ...fields, companyKey: companyKey(fields.company) }),
    });
    const created = customer.toObject<CustomerRecord>();
    const id = created._id.toHexString();
    // A customer in the trash keeps its e-mail (checked after the insert: see services/trash.service.ts).
    await assertEmailNotTrashed(fields.email, undefined, () => Customer.collection.deleteOne({ _id: created._id }));
    await concurrently(
      () => applyCustomerChanges([{ before: null, after: created }]),
      () => activity.recordChange({ type: 'customer', id, role: 'CUSTOMER' }, 'customer', null, created),
      () => notify.customerSignedUp(created),
    );
    return created;
  }).catch(async (error: unknown) => {
    throw await duplicateEmailError(error, 'customer', fields.email, undefined);
  });
  // Committed: its likely duplicates are marked by the next flush, out of the request's path (duplicate-marker).
  queueDuplicateMarks([record]);
  return record._id.toHexString();
}

const badCredentials = () => new AppError(401, 'INVALID_CREDENTIALS', 'Invalid email or password');

/**
 * Same 401, in about the same time, for an unknown e-mail and a wrong password; repeated failures on one
 * account lock it (429 with Retry-After), counted before the hash is compared (see login-throttle).
 */
async function checkCredentials<T extends { password_hash?: string | null }>(
  kind: PrincipalType,
  input: SigninBody,
  find: () => Promise<T | null>,
): Promise<T> {
  const account = await find();
  const valid = await throttle.checkPasswordGuarded(kind, input.email, () => verifyPassword(input.password, account?.password_hash));
  if (!valid || !account) throw badCredentials();
  return account;
}

export async function signinUser(input: SigninBody) {
  const user = await checkCredentials('user', input, () =>
    User.findOne({ email: input.email }).select('+password_hash').lean<UserRecord & { password_hash: string }>(),
  );
  await User.updateOne({ _id: user._id }, { $set: { last_login_at: new Date() } }, { timestamps: false });
  const tokens = await issueTokens(userSubject(user));
  return { msg: 'User logged in successfully' as const, ...tokens, user: { ...userView(user), token: tokens.token } };
}

export async function signinCustomer(input: SigninBody) {
  const customer = await checkCredentials('customer', input, () =>
    Customer.findOne({ email: input.email }).select('+password_hash').lean<CustomerRecord>(),
  );
  const tokens = await issueTokens(customerSubject(customer));
  return {
    customer: { ...customerView(customer), token: tokens.token },
    message: 'Customer logged in successfully' as const,
    ...tokens,
  };
}

/** Rotates a refresh token: the old one stops working, a new pair is issued in the same sign-in family. */
export async function refresh(rawRefreshToken: string) {
  const record = await consumeRefreshToken(rawRefreshToken);
  const id = record.principal_id;
  const account =
    record.principal_type === 'user'
      ? await User.findById(id, { role: 1, token_version: 1 }).lean<UserRecord>()
      : await Customer.findById(id, { token_version: 1 }).lean<CustomerRecord>();
  if (!account || account.token_version !== record.token_version) {
    await revokeFamily(record.family_id);
    throw new AppError(401, 'INVALID_REFRESH_TOKEN', 'Invalid or expired refresh token');
  }
  const subject: TokenSubject =
    record.principal_type === 'user' && 'role' in account
      ? userSubject(account)
      : { type: 'customer', id: id.toHexString(), role: 'CUSTOMER', tokenVersion: account.token_version };
  return issueTokens(subject, record.family_id);
}

/** Ends one sign-in (its refresh token family), or with `all` every session of the caller. */
export async function logout(input: { refresh_token?: string; all?: boolean }, caller: Principal | undefined) {
  if (input.all) {
    if (!caller) throw AppError.unauthorized('Logging out everywhere needs an access token');
    await bumpTokenVersion(caller.type, caller.id);
  }
  if (input.refresh_token) await revokeRefreshToken(input.refresh_token);
  if (!input.all && !input.refresh_token) {
    throw AppError.validation([
      { location: 'body', field: 'refresh_token', message: 'send refresh_token, or all=true with an access token' },
    ]);
  }
}

const wrongCurrentPassword = () =>
  AppError.validation([{ location: 'body', field: 'current_password', message: 'the current password is required and must be correct' }]);

/**
 * Changing one's own password or sign-in e-mail needs the current password, so a stolen access token alone
 * cannot take the account over. A wrong one counts as a failed sign-in of that account (same counter and
 * lock as sign-in, 429 once locked), so it cannot be guessed without limit either.
 */
export async function assertCurrentPassword(type: PrincipalType, id: string, currentPassword: string | undefined): Promise<void> {
  const account =
    type === 'user'
      ? await User.findById(id).select('+password_hash').lean<UserRecord>()
      : await Customer.findById(id).select('+password_hash').lean<CustomerRecord>();
  if (!currentPassword || !account) throw wrongCurrentPassword();
  const valid = await throttle.checkPasswordGuarded(type, account.email, () => verifyPassword(currentPassword, account.password_hash));
  if (!valid) throw wrongCurrentPassword();
}

/** Invalidates every access and refresh token issued to this principal so far. */
export async function bumpTokenVersion(type: PrincipalType, id: string): Promise<void> {
  if (type === 'user') await User.updateOne({ _id: id }, { $inc: { token_version: 1 } });
  else await Customer.updateOne({ _id: id }, { $inc: { token_version: 1 } });
  await revokeAllRefreshTokens(type, id);
}

export async function me(principal: Principal) {
  // An API key's caller sees what the key may do: the role's permissions within the key's scopes.
  const permissions = rolePermissions[principal.role].filter((permission) => can(principal, permission));
  if (principal.type === 'user') {
    const user = await User.findById(principal.id).lean<UserRecord>();
    if (!user) throw AppError.unauthorized();
    return { ...userView(user), type: 'user' as const, permissions };
  }
  const customer = await Customer.findById(principal.id).lean<CustomerRecord>();
  if (!customer) throw AppError.unauthorized();
  return { ...customerView(customer), type: 'customer' as const, role: 'CUSTOMER' as const, permissions };
}

/** Creates the configured ADMIN at start if no staff user has that e-mail yet. */
export async function ensureConfiguredAdmin(): Promise<'created' | 'exists' | 'not-configured'> {
  const admin = config.auth.admin;
  if (!admin) return 'not-configured';
  if (await User.exists({ email: admin.email })) return 'exists';
  try {
    await createStaffUser({ name: admin.name, email: admin.email, password: admin.password, role: 'ADMIN' }, 'system');
    await SystemFlag.create({ _id: BOOTSTRAP_FLAG }).catch(() => undefined);
    return 'created';
  } catch (error) {
    // Another instance created it at the same moment.
    if (isDuplicateKey(error)) return 'exists';
    throw error;
  }
}
