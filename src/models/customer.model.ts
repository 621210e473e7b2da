import mongoose, { type InferSchemaType, type Types } from 'mongoose';
import { duplicateKeysFor } from '../utils/duplicate-keys';
import { timestamps } from './timestamps';

export const customerStatuses = ['lead', 'prospect', 'active', 'inactive'] as const;

const addressSchema = new mongoose.Schema(
  {
    street: { type: String, trim: true },
    city: { type: String, trim: true },
    state: { type: String, trim: true },
    postal_code: { type: String, trim: true },
    country: { type: String, trim: true },
  },
  { _id: false },
);

const customerSchema = new mongoose.Schema(
  {
    name: { type: String, required: true, trim: true, maxlength: 200 },
    email: { type: String, required: true, lowercase: true, trim: true, maxlength: 254 },
    // Only customers who may sign in have one.
    password_hash: { type: String, select: false },
    company: { type: String, trim: true, maxlength: 200 },
    phone: { type: String, trim: true, maxlength: 50 },
    status: { type: String, required: true, enum: customerStatuses, default: 'lead' },
    owner: { type: mongoose.Schema.Types.ObjectId, ref: 'User' },
    tags: { type: [String], default: [] },
    address: { type: addressSchema },
    token_version: { type: Number, required: true, default: 0 },
    // Lower-cased words of name, e-mail and company: `q` search is an anchored prefix match on this
    // multikey index (no text index on FerretDB, and unanchored regexes cannot use an index).
    search_terms: { type: [String], default: [], select: false },
    // The company lower-cased (companyKey below): the `company` list filter is case-insensitive and served by
    // the (company_key, created_at, _id) index on every engine (FerretDB has no collations). Kept in step with
    // `company` on every write; documents written before it existed get it at start (services/migrations.service.ts).
    company_key: { type: String, select: false },
    // The duplicate rules' normalised keys (utils/duplicate-keys.ts; README "Duplicates"), kept in step with phone,
    // e-mail, name and company on every write; documents written before they existed get them at start.
    phone_key: { type: String, select: false },
    email_key: { type: String, select: false },
    name_key: { type: String, select: false },
  },
  { collection: 'customers', timestamps, versionKey: false },
);

customerSchema.index({ email: 1 }, { unique: true });
customerSchema.index({ created_at: 1, _id: 1 });
customerSchema.index({ updated_at: 1, _id: 1 });
customerSchema.index({ name: 1, _id: 1 });
customerSchema.index({ status: 1, created_at: 1, _id: 1 });
customerSchema.index({ owner: 1, created_at: 1, _id: 1 });
customerSchema.index({ company_key: 1, created_at: 1, _id: 1 });
customerSchema.index({ search_terms: 1 });
// One equality lookup per rule finds a written customer's likely duplicates (services/duplicates.service.ts). With
// `_id` in the key the lookup leaves out the customers it is asked for on the index alone, without reading them.
customerSchema.index({ phone_key: 1, _id: 1 });
customerSchema.index({ email_key: 1, _id: 1 });
customerSchema.index({ name_key: 1, _id: 1 });

export type CustomerFields = InferSchemaType<typeof customerSchema>;
export type CustomerRecord = CustomerFields & { _id: Types.ObjectId };
export const Customer = mongoose.model('Customer', customerSchema);

/** The stored key of a company: what the case-insensitive `company` filter compares (undefined: no company). */
export function companyKey(company: string | null | undefined): string | undefined {
  const key = company?.trim().toLowerCase();
  return key ? key : undefined;
}

export function searchTermsFor(fields: { name?: string | null; email?: string | null; company?: string | null }): string[] {
  const text = [fields.name, fields.email, fields.email?.split('@')[0], fields.company].filter(Boolean).join(' ');
  const words = text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0);
  const full = [fields.email?.toLowerCase(), fields.name?.toLowerCase(), fields.company?.toLowerCase()].filter((v): v is string =>
    Boolean(v),
  );
  return [...new Set([...words, ...full])];
}

/** What a new customer is stored from: values the create request's schema has already checked and normalised. */
export interface NewCustomer {
  name: string;
  email: string;
  company?: string;
  phone?: string;
  status?: (typeof customerStatuses)[number];
  tags?: string[];
  address?: Partial<Record<AddressPart, string>>;
  owner: string;
  password_hash?: string;
}

/**
 * The record a new customer is stored as: what `new Customer(fields).toObject()` gives (the same fields,
 * defaults and derived keys; test/unit/customer-record.test.ts compares them and runs the model's validation on
 * it), without a Mongoose document: building, casting and validating one was the largest package in a create's
 * own CPU (bench:profile). The request schema (schemas/customer.schema.ts) is stricter than the model on every
 * field (trimmed, lower-cased e-mail, the same or smaller length limits, the status enum), so nothing is left for
 * the model to cast or refuse.
 */
export function newCustomerRecord(fields: NewCustomer, at: Date): CustomerRecord {
  const record: CustomerRecord = {
    _id: new mongoose.Types.ObjectId(),
    name: fields.name,
    email: fields.email,
    status: fields.status ?? 'lead',
    owner: new mongoose.Types.ObjectId(fields.owner),
    tags: fields.tags ? [...fields.tags] : [],
    token_version: 0,
    created_at: at,
    updated_at: at,
    ...derivedCustomerFields(fields),
  };
  // Absent optional fields stay absent (the driver would store an undefined as null).
  if (fields.password_hash !== undefined) record.password_hash = fields.password_hash;
  if (fields.company !== undefined) record.company = fields.company;
  if (fields.phone !== undefined) record.phone = fields.phone;
  // An empty address is not stored: the model's toObject minimises it away.
  const address = fields.address && storedAddress(fields.address);
  if (address) record.address = address;
  return record;
}

/** What a new customer stores derived from its name, e-mail, company and phone: search terms, company key, duplicate keys. */
export function derivedCustomerFields(fields: { name: string; email: string; company?: string; phone?: string }) {
  const key = companyKey(fields.company);
  return {
    search_terms: searchTermsFor(fields),
    ...(key !== undefined && { company_key: key }),
    ...duplicateKeysFor({ ...fields, companyKey: key }),
  };
}

function storedAddress(address: Partial<Record<AddressPart, string>>): Partial<Record<AddressPart, string>> | undefined {
  let stored: Partial<Record<AddressPart, string>> | undefined;
  for (const part of addressParts) {
    const value = address[part];
    if (value !== undefined) (stored ??= {})[part] = value;
  }
  return stored;
}

/** The parts of an address, in the order every output lists them. */
export const addressParts = ['street', 'city', 'state', 'postal_code', 'country'] as const;
export type AddressPart = (typeof addressParts)[number];

/**
 * The public customer fields (SPEC §2), in the order every output lists them. The one source of the
 * customer's public shape: `publicCustomer` below gives their values, and the view, the export (JSON rows
 * and CSV columns) and the response schemas (`publicCustomerShape` in schemas/customer.schema.ts) are
 * built from it.
 */
export const publicCustomerFields = [
  'name',
  'email',
  'company',
  'phone',
  'status',
  'owner_id',
  'tags',
  'address',
  'created_at',
  'updated_at',
] as const;
export type PublicCustomerField = (typeof publicCustomerFields)[number];

/** What the public fields are read from: a Mongoose record, or a document straight from the driver. */
interface CustomerSource {
  name: string;
  email: string;
  company?: string | null;
  phone?: string | null;
  status: string;
  owner?: Types.ObjectId | null;
  tags?: string[] | null;
  address?: Partial<Record<AddressPart, string | null>> | null;
  created_at?: Date | null;
  updated_at?: Date | null;
}

/** A customer's public fields, without its id: absent values are `null`, never a secret or an internal field. */
export function publicCustomer<C extends CustomerSource>(customer: C) {
  const { address } = customer;
  return {
    name: customer.name,
    email: customer.email,
    company: customer.company ?? null,
    phone: customer.phone ?? null,
    status: customer.status,
    owner_id: customer.owner ? customer.owner.toHexString() : null,
    tags: customer.tags ?? [],
    address: address
      ? ({
          street: address.street ?? null,
          city: address.city ?? null,
          state: address.state ?? null,
          postal_code: address.postal_code ?? null,
          country: address.country ?? null,
        } satisfies Record<AddressPart, string | null>)
      : null,
    created_at: customer.created_at ?? null,
    updated_at: customer.updated_at ?? null,
  } satisfies Record<PublicCustomerField, unknown>;
}

/** The public shape of a customer (SPEC §2): `id` and `customer_id`, snake_case, no secrets. */
export function customerView(customer: CustomerRecord) {
  const id = customer._id.toHexString();
  return { id, customer_id: id, ...publicCustomer(customer) };
}
export type CustomerView = ReturnType<typeof customerView>;
