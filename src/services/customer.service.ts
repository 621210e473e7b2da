import mongoose from 'mongoose';
import {
  companyKey,
  Customer,
  customerView,
  newCustomerRecord,
  searchTermsFor,
  type CustomerRecord,
  type CustomerView,
} from '../models/customer.model';
import type { CreateCustomerBody, CustomerFilters, ListCustomersQuery, UpdateCustomerBody } from '../schemas/customer.schema';
import { AppError } from '../utils/app-error';
import { paginate } from '../database/paginate';
import type { Page } from '../utils/paging';
import { hashPassword } from '../utils/password';
import { applyFieldChanges, mergePatchFields, updateDocument } from '../utils/update-document';
import { can, type Principal } from '../utils/principal';
import { concurrently, insertDocuments, inTransaction, queueUpdate, sessionOption } from '../database/transaction';
import { isDuplicateKey } from '../database/errors';
import { typedCollection } from '../database/typed-collection';
import * as activity from './activity.service';
import { applyCustomerChanges } from './analytics';
import { assertCurrentPassword, bumpTokenVersion } from './auth.service';
import { customerDependentRecords, customerDependents } from './dependents.service';
import * as notify from './notifications';
import { duplicateEmailError } from './duplicate-email.service';
import { assertEmailNotTrashed, checkEmailFreeBeforeInsert, queueEmailFreeCheck } from './trash-holds.service';
import { trashRecords } from './trash.service';
import { keyedCustomer } from './duplicates.service';
import { queueDuplicateMarks } from './duplicate-marker.service';
import { duplicateKeyChanges, duplicateKeyFields, duplicateKeysFor } from '../utils/duplicate-keys';
import { assertStaffUser } from './user.service';

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The Mongo filter for the list filters (shared by the list and the export). */
export function customerFilter(filters: CustomerFilters): Record<string, unknown> {
  const filter: Record<string, unknown> = {};
  if (filters.status) filter.status = filters.status;
  // Case-insensitive, like `q`: the stored lower-cased key, on its own index.
  if (filters.company) filter.company_key = companyKey(filters.company);
  if (filters.owner) filter.owner = new mongoose.Types.ObjectId(filters.owner);
  if (filters.tag) filter.tags = filters.tag;
  if (filters.q) {
    const terms = filters.q
      .toLowerCase()
      .split(/[^\p{L}\p{N}@.+_-]+/u)
      .filter(Boolean)
      .slice(0, 5);
    // Each word must prefix-match a stored search term: an anchored, index-friendly regex. A q with no word
    // in it (only punctuation or symbols) can match no stored term, so it finds nothing.
    if (terms.length === 0) filter.search_terms = mongoose.trusted({ $in: [] });
    else filter.$and = terms.map((term) => ({ search_terms: mongoose.trusted({ $regex: `^${escapeRegex(term)}` }) }));
  }
  return filter;
}

export async function listCustomers(query: ListCustomersQuery): Promise<Page<CustomerView>> {
  const page = await paginate(Customer, customerFilter(query), query);
  return { ...page, items: page.items.map(customerView) };
}

/** What a plain read of a customer leaves out (the schema's `select: false` fields). */
// The fields the model hides (`select: false`), from the schema itself: a field added there is hidden here too.
const hiddenFields = Object.entries(Customer.schema.paths)
  .filter(([, path]) => path.options.select === false)
  .map(([name]) => name);
const hiddenCustomerFields = Object.fromEntries(hiddenFields.map((name) => [name, 0]));

/**
 * A customer record the caller may see: any, for staff; only its own, for a customer (404 otherwise). Read
 * with the driver: `id` is a checked ObjectId, and the lean Mongoose query around the same findOne (casting,
 * the projection of hidden fields, hooks) was the largest package in a lookup's own CPU (bench:profile).
 */
async function findVisibleCustomer(id: string, principal: Principal): Promise<CustomerRecord> {
  if (principal.type === 'customer' && principal.id !== id) throw AppError.notFound('Customer');
  const customer = await typedCollection<CustomerRecord>(Customer).findOne(
    { _id: new mongoose.Types.ObjectId(id) },
    { projection: hiddenCustomerFields, ...sessionOption() },
  );
  if (!customer) throw AppError.notFound('Customer');
  return customer;
}

export async function getCustomer(id: string, principal: Principal) {
  return customerView(await findVisibleCustomer(id, principal));
}

export async function createCustomer(input: CreateCustomerBody, principal: Principal) {
  const { password, owner_id: ownerId, ...fields } = input;
  if (ownerId) await assertStaffUser(ownerId, 'owner_id');
  const passwordHash = password ? await hashPassword(password) : undefined;
  // The record is built from the checked body without a Mongoose document (newCustomerRecord) and inserted with
  // the driver: a document's construction and validation cost POST more than any of its inserts.
  const record = newCustomerRecord({ ...fields, owner: ownerId ?? principal.id, password_hash: passwordHash }, new Date());
  // The record and its side entries are inserts that read nothing back: queued, they reach the server as one
  // command with the commit where the engine allows.
  const created = await inTransaction(
    async () => {
      // A customer in the trash keeps its e-mail (services/trash.service.ts): checked in the same command as the
      // inserts, or by a read first, or (no transaction) after the insert, which is then taken back on a 409.
      const checkAfter = await checkEmailFreeBeforeInsert(fields.email, principal);
      await insertDocuments(Customer.collection, [record]);
      if (checkAfter) await assertEmailNotTrashed(fields.email, principal, () => Customer.collection.deleteOne({ _id: record._id }));
      await concurrently(
        () => applyCustomerChanges([{ before: null, after: record }]),
        () => activity.recordChange(principal, 'customer', null, record),
      );
      return customerView(record);
    },
    { queueInserts: true },
  ).catch(async (error: unknown) => {
    // A duplicate key may be the trash's hold on the e-mail (the check above): named as such.
    if (isDuplicateKey(error)) await assertEmailNotTrashed(fields.email, principal);
    throw await duplicateEmailError(error, 'customer', fields.email, principal);
  });
  // Committed: its likely duplicates are marked by the next flush, out of the request's path (duplicate-marker).
  queueDuplicateMarks([record]);
  return created;
}

/**
 * A customer in the trash keeps its e-mail: checked after the change (see services/trash.service.ts); without
 * a transaction the e-mail (and the search terms made of it) is put back before the 409.
 */
function assertChangedEmailFree(current: CustomerRecord, email: string | undefined, principal: Principal) {
  const undo = { email: current.email, search_terms: searchTermsFor(current) };
  return assertEmailNotTrashed(email, principal, () => Customer.collection.updateOne({ _id: current._id }, { $set: undo }));
}

/** The stored record minus the fields the model hides: what the trail, the counters and the notices compare. */
function withoutHidden(record: CustomerRecord): CustomerRecord {
  const visible = { ...record };
  for (const hidden of hiddenFields) Reflect.deleteProperty(visible, hidden);
  return visible;
}

/**
 * What a customer's own PATCH must prove before anything is read in a transaction: its current password, when it
 * changes its password or e-mail. Checked outside the transaction, because the check counts failures against the
 * sign-in lock-out (login-throttle), which the rollback of a refused request must not undo. Answers whether it was
 * checked.
 */
async function checkedSelfChange(id: string, changes: UpdateCustomerBody, principal: Principal): Promise<boolean> {
  if (principal.type !== 'customer' || (changes.password === undefined && changes.email === undefined)) return false;
  const { email } = await findVisibleCustomer(id, principal);
  if (changes.password === undefined && changes.email === email) return false;
  await assertCurrentPassword('customer', id, changes.current_password);
  return true;
}

/**
 * Staff may change any field; a customer only its own contact details and password, never its owner or
 * status. Changing a password invalidates the customer's older tokens.
 */
export async function updateCustomer(id: string, changes: UpdateCustomerBody, principal: Principal) {
  const isSelf = principal.type === 'customer';
  if (isSelf && principal.id !== id) throw AppError.notFound('Customer');
  if (isSelf && (changes.owner_id !== undefined || changes.status !== undefined)) {
    throw AppError.forbidden('A customer cannot change its owner or status');
  }
  const passwordChecked = await checkedSelfChange(id, changes, principal);
  const passwordHash = changes.password === undefined ? undefined : await hashPassword(changes.password);
  const _id = new mongoose.Types.ObjectId(id);

  const { view, keyed, marks } = await inTransaction(
    async () => {
      // The record before the change, read in the transaction (its first statement where the engine has them): the
      // trail, the counters and the security notice compare it with the record after, and a concurrent write to it
      // makes this one conflict and start over, so the comparison is never with a record already replaced.
      const stored = await typedCollection<CustomerRecord>(Customer).findOne(
        { _id },
        { projection: { password_hash: 0 }, ...sessionOption() },
      );
      if (!stored) throw AppError.notFound('Customer');
      if (!isSelf && !can(principal, 'customers:write')) throw AppError.forbidden();
      const current = withoutHidden(stored);
      const emailChanged = changes.email !== undefined && changes.email !== current.email;
      // The stored e-mail changed since the check above, which then asked for no password.
      if (isSelf && emailChanged && !passwordChecked) {
        throw AppError.conflict('The record changed while it was being updated: send the request again');
      }

      if (changes.owner_id) await assertStaffUser(changes.owner_id, 'owner_id');
      // A held e-mail: checked in the same command as the update where the unit of work queues it, otherwise asked
      // before the write too, so that a taken e-mail changes nothing even where a 409 cannot roll back.
      const heldChecked = emailChanged && queueEmailFreeCheck(changes.email ?? '');
      if (emailChanged && !heldChecked) await assertEmailNotTrashed(changes.email, principal);
      const { set, unset, keysChanged } = storedChanges(changes, current, passwordHash);

      // Where the unit of work queues its writes the update goes with the side entries and the commit, as one command
      // (its outcome is known: the record read above, changed); otherwise one findAndModify writes and reads back.
      // With the driver either way: a Mongoose query's casting, validation and hooks were the largest package in
      // PATCH's own CPU (bench:profile). Without a projection, which FerretDB 1.x cannot apply in findAndModify.
      const update = updateDocument({ set, unset });
      const after = queueUpdate(Customer.collection, { _id }, update)
        ? applyFieldChanges(stored, { set, unset })
        : await typedCollection<CustomerRecord>(Customer).findOneAndUpdate({ _id }, update, {
            returnDocument: 'after',
            ...sessionOption(),
          });
      if (!after) throw AppError.notFound('Customer');
      if (emailChanged && !heldChecked) await assertChangedEmailFree(current, changes.email, principal);
      const updated = withoutHidden(after);
      if (changes.password !== undefined) await bumpTokenVersion('customer', id);
      await concurrently(
        () => applyCustomerChanges([{ before: current, after: updated }]),
        () => activity.recordChange(principal, 'customer', current, updated, changes.password !== undefined ? ['password'] : []),
        () => (changes.password !== undefined ? notify.passwordChanged('customer', current, updated) : Promise.resolve()),
      );
      return { view: customerView(updated), keyed: keyedCustomer(after), marks: keysChanged || changes.owner_id !== undefined };
    },
    // The update and its side entries (counters' delta, activity) read nothing back: one command with the commit.
    { queueInserts: true },
  ).catch(async (error: unknown) => {
    // A duplicate key may be the trash's hold on the e-mail (the check queued above): named as such.
    if (isDuplicateKey(error)) await assertEmailNotTrashed(changes.email, principal);
    throw await duplicateEmailError(error, 'customer', changes.email, principal);
  });
  // Committed: new keys or a new owner are marked by the next flush (duplicate-marker). Marks of keys it no longer
  // holds are left to the page that meets them (it drops them).
  if (marks) queueDuplicateMarks([keyed]);
  return view;
}

/**
 * A PATCH's changes as the update's `$set`/`$unset` of the stored record: the body as a JSON merge patch (RFC 7396:
 * `address` changes only the parts it names), the derived search fields and duplicate keys, the owner's id cast and
 * the model's `updated_at` set. The request schema is stricter than the model on every field (as for a create,
 * newCustomerRecord), so nothing else is cast or validated. `keysChanged`: the duplicate keys are not as before.
 */
function storedChanges(changes: UpdateCustomerBody, current: CustomerRecord, passwordHash: string | undefined) {
  const { set, unset } = mergePatchFields(
    {
      name: changes.name,
      email: changes.email,
      company: changes.company,
      phone: changes.phone,
      tags: changes.tags,
      address: changes.address,
      status: changes.status,
      owner: changes.owner_id,
    },
    current,
  );
  if (passwordHash !== undefined) set.password_hash = passwordHash;
  setSearchFields({ set, unset }, changes, current);
  const keysChanged = setDuplicateKeys({ set, unset }, changes, current);
  if (typeof set.owner === 'string') set.owner = new mongoose.Types.ObjectId(set.owner);
  set.updated_at = new Date();
  return { set, unset, keysChanged };
}

/** The stored search fields (company key, search terms) of the customer after `changes`, into the update's `$set`/`$unset`. */
function setSearchFields(
  fields: { set: Record<string, unknown>; unset: Record<string, unknown> },
  changes: UpdateCustomerBody,
  current: CustomerRecord,
): void {
  if (changes.company === null) fields.unset.company_key = '';
  else if (changes.company !== undefined) fields.set.company_key = companyKey(changes.company);
  if (changes.name !== undefined || changes.email !== undefined || changes.company !== undefined) {
    fields.set.search_terms = searchTermsFor({
      name: changes.name ?? current.name,
      email: changes.email ?? current.email,
      company: changes.company === undefined ? current.company : changes.company,
    });
  }
}

/** The duplicate keys of the customer after `changes` (utils/duplicate-keys.ts), into the update's `$set`/`$unset`; false: the same as before. */
function setDuplicateKeys(
  fields: { set: Record<string, unknown>; unset: Record<string, unknown> },
  changes: UpdateCustomerBody,
  current: CustomerRecord,
): boolean {
  if ([changes.name, changes.email, changes.company, changes.phone].every((value) => value === undefined)) return false;
  const keys = duplicateKeyChanges({
    name: changes.name ?? current.name,
    email: changes.email ?? current.email,
    phone: changes.phone === undefined ? current.phone : changes.phone,
    companyKey: companyKey(changes.company === undefined ? current.company : changes.company),
  });
  // The same keys as stored (a new spelling of the same number, a name's case): nothing to write or mark.
  const before = duplicateKeysFor({ ...current, companyKey: companyKey(current.company) });
  if (duplicateKeyFields.every((field) => before[field] === keys.set[field])) return false;
  Object.assign(fields.set, keys.set);
  Object.assign(fields.unset, keys.unset);
  return true;
}

export async function deleteCustomer(id: string, cascade: boolean, principal: Principal) {
  return inTransaction(async () => {
    await findVisibleCustomer(id, principal);
    // The whole stored record, hidden fields included: it goes to the trash as it is (restore puts it back).
    const customer = await typedCollection<CustomerRecord>(Customer).findOne({ _id: new mongoose.Types.ObjectId(id) }, sessionOption());
    if (!customer) throw AppError.notFound('Customer');
    // Records hanging off the customer: deleting it needs cascade=true while any exist.
    const counts = await customerDependents(customer._id);
    const dependents = Object.entries(counts).filter(([, count]) => count > 0);
    if (dependents.length > 0 && !cascade) {
      throw AppError.conflict(
        'This customer has interactions or tickets: pass cascade=true to delete them too',
        dependents.map(([field, count]) => ({ field, message: `${count} linked` })),
        'HAS_DEPENDENTS',
      );
    }
    // The customer, its interactions and their tickets go to the trash as one deletion (restorable together).
    const { interactions, tickets } =
      dependents.length > 0 ? await customerDependentRecords(customer._id) : { interactions: [], tickets: [] };
    await trashRecords({
      customers: [customer],
      interactions,
      tickets,
      root: { entity: 'customer', record_id: customer._id },
      reason: 'delete',
      principal,
    });
  });
}
