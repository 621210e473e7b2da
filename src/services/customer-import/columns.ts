// Which customer field a column of an import file (a CSV header, a JSON key) fills.

/** Where a column of the file goes: a customer field, deliberately ignored, or unknown. */
type ColumnTarget = { field: string } | { ignored: 'password' | 'known' } | { unknown: true };

const aliases: Record<string, string> = {};
function alias(field: string, ...names: string[]) {
  for (const name of [field, ...names]) aliases[normaliseHeader(name)] = field;
}
alias('name', 'full_name', 'fullname', 'customer_name', 'contact_name', 'contact');
alias('email', 'e-mail', 'email_address', 'mail');
alias('company', 'company_name', 'organisation', 'organization', 'org', 'business');
alias('phone', 'phone_number', 'telephone', 'tel', 'mobile');
alias('status', 'state_of_customer');
alias('owner_id', 'owner');
alias('tags', 'tag', 'labels');
alias('address');
alias('address.street', 'address_street', 'street', 'street_address');
alias('address.city', 'address_city', 'city', 'town');
alias('address.state', 'address_state', 'state', 'region', 'province');
alias('address.postal_code', 'address_postal_code', 'postal_code', 'postcode', 'zip', 'zip_code');
alias('address.country', 'address_country', 'country');

const passwordColumns = new Set(['password', 'passwordhash', 'passwd', 'pwd', 'pass', 'hash', 'currentpassword']);
/** Columns an export writes that an import does not take: ids and timestamps are the database's. */
const knownColumns = new Set(['id', 'customerid', '_id', 'createdat', 'updatedat', 'tokenversion']);

function normaliseHeader(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** Matches a column name case-insensitively, ignoring spaces, dashes and underscores. */
export function columnTarget(header: string): ColumnTarget {
  const flat = normaliseHeader(header);
  const field = aliases[flat];
  if (field) return { field };
  if (passwordColumns.has(flat)) return { ignored: 'password' };
  if (knownColumns.has(flat)) return { ignored: 'known' };
  return { unknown: true };
}

/** The columns an import leaves out, for its report. */
export interface ColumnReport {
  unknown: string[];
  ignored: string[];
}

const MAX_COLUMN_NOTES = 50;

/** Notes a column once (and at most 50 of them, whatever the file holds). */
export function noteColumn(list: string[], name: string): void {
  if (list.length < MAX_COLUMN_NOTES && !list.includes(name)) list.push(name);
}
