import { isDuplicateKey } from '../database/errors';
import { Customer } from '../models/customer.model';
import { User } from '../models/user.model';
import { AppError } from '../utils/app-error';
import type { Principal } from '../utils/principal';

// The 409 for an e-mail another record holds (the unique index refused the write): it names the field, and
// for a staff caller, who may read every customer and staff user anyway, the record that holds it — found
// only now, on the error path, so a successful write pays no extra query. Customers and anonymous callers
// learn only that the address is taken.

const what = { customer: 'customer', user: 'staff user' } as const;

async function holderOf(kind: 'customer' | 'user', email: string): Promise<string | undefined> {
  const found = kind === 'customer' ? await Customer.exists({ email }) : await User.exists({ email });
  return found?._id.toHexString();
}

/**
 * `error` as the 409 of a taken e-mail when it is a duplicate key and a record of `kind` holds `email`;
 * otherwise `error` unchanged (another unique key, or the holder is gone: the error handler's 409).
 */
export async function duplicateEmailError(
  error: unknown,
  kind: 'customer' | 'user',
  email: string | undefined,
  caller: Principal | undefined,
): Promise<unknown> {
  if (!isDuplicateKey(error) || email === undefined) return error;
  const holder = await holderOf(kind, email).catch(() => undefined);
  if (holder === undefined) return error;
  const staff = caller?.type === 'user';
  return AppError.conflict(
    staff ? `A ${what[kind]} with this e-mail already exists (id ${holder})` : `A ${what[kind]} with this e-mail already exists`,
    [{ location: 'body', field: 'email', message: 'already in use', ...(staff ? { existing_id: holder } : {}) }],
    'DUPLICATE',
  );
}
