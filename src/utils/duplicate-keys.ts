import { parsePhoneNumberFromString } from 'libphonenumber-js/min';
import { config } from '../config/env';

// The normalised keys the duplicate rules compare (README "Duplicates"): stored on each customer and kept in step
// with its phone, e-mail, name and company on every write, so that finding a customer's likely duplicates is one
// indexed equality lookup per rule. One place computes them: the create, the update, the import, the migration
// and refreshDuplicateKeys (services/duplicates.service.ts) all call duplicateKeysFor.
//
// libphonenumber-js's `min` metadata (84 kB of JSON, about 0.9 MB of heap once loaded) is enough: a key needs the
// country code and the national number's possible lengths, not the per-type patterns `max` adds to tell a valid
// number from a possible one.

/** Digits a phone needs to have a key at all: a shorter one says nothing (and region DE reads "1234" as possible). */
const MIN_DIGITS = 7;
/** Domains whose mailboxes ignore dots and `+tags` in the local part; googlemail.com is gmail.com. */
const dotlessDomains: Record<string, string> = { 'gmail.com': 'gmail.com', 'googlemail.com': 'gmail.com' };

/**
 * A phone's key: none below 7 digits (too short to say anything: an extension, a typo); E.164 (`+49301234567`) when
 * libphonenumber-js reads a possible number (with its country code, or in DEFAULT_PHONE_REGION); otherwise its
 * digits alone. The two forms cannot collide: only E.164 starts with `+`.
 */
export function phoneKey(phone: string | null | undefined): string | undefined {
  const digits = phone?.replace(/\D/g, '') ?? '';
  if (!phone || digits.length < MIN_DIGITS) return undefined;
  const region = config.duplicates.defaultPhoneRegion;
  const parsed = parsePhoneNumberFromString(phone, region ? { defaultCountry: region } : undefined);
  return parsed?.isPossible() ? parsed.number : digits;
}

/** An e-mail's key: lower-cased; at gmail.com/googlemail.com without dots and `+tag` in the local part. */
export function emailKey(email: string | null | undefined): string | undefined {
  const lower = email?.trim().toLowerCase();
  if (!lower) return undefined;
  const at = lower.lastIndexOf('@');
  const domain = dotlessDomains[lower.slice(at + 1)];
  if (at <= 0 || domain === undefined) return lower;
  const local = lower.slice(0, at).split('+')[0]?.replace(/\./g, '') ?? '';
  return local ? `${local}@${domain}` : lower;
}

/** The name's key within its company: lower-cased, whitespace collapsed, U+0000, the company's key; none without a company. */
export function nameKey(name: string | null | undefined, companyKey: string | null | undefined): string | undefined {
  const key = name?.trim().toLowerCase().replace(/\s+/g, ' ');
  const company = companyKey?.replace(/\s+/g, ' ');
  return key && company ? `${key}\u0000${company}` : undefined;
}

export interface DuplicateKeys {
  phone_key?: string;
  email_key?: string;
  name_key?: string;
}
export const duplicateKeyFields = ['phone_key', 'email_key', 'name_key'] as const;

/** Every key of a customer with these values (absent keys are left out, never stored as null). */
export function duplicateKeysFor(fields: {
  name?: string | null;
  email?: string | null;
  phone?: string | null;
  companyKey?: string | null;
}): DuplicateKeys {
  const keys: DuplicateKeys = {};
  const phone = phoneKey(fields.phone);
  const email = emailKey(fields.email);
  const name = nameKey(fields.name, fields.companyKey);
  if (phone !== undefined) keys.phone_key = phone;
  if (email !== undefined) keys.email_key = email;
  if (name !== undefined) keys.name_key = name;
  return keys;
}

/** The `$set`/`$unset` fields that store the keys of a customer with these values: every key set, or unset when it has none. */
export function duplicateKeyChanges(fields: Parameters<typeof duplicateKeysFor>[0]): {
  set: DuplicateKeys;
  unset: Partial<Record<keyof DuplicateKeys, ''>>;
} {
  const keys = duplicateKeysFor(fields);
  const set: DuplicateKeys = {};
  const unset: Partial<Record<keyof DuplicateKeys, ''>> = {};
  for (const field of duplicateKeyFields) {
    const value = keys[field];
    if (value === undefined) unset[field] = '';
    else set[field] = value;
  }
  return { set, unset };
}
