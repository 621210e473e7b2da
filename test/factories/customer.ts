import { randomBytes } from 'node:crypto';
import mongoose from 'mongoose';
import { companyKey, Customer, searchTermsFor } from '../../src/models/customer.model';
import { duplicateKeysFor } from '../../src/utils/duplicate-keys';

export interface CustomerInput {
  name: string;
  email: string;
  company?: string;
  phone?: string;
  status?: 'lead' | 'prospect' | 'active' | 'inactive';
  tags?: string[];
  owner_id?: string;
}

/** Valid input for POST /customers. */
export function buildCustomer(overrides: Partial<CustomerInput> = {}): CustomerInput {
  const suffix = randomBytes(3).toString('hex');
  return { name: `Customer ${suffix}`, email: `customer.${suffix}@example.com`, company: 'TATA', phone: '+91 35636621762', ...overrides };
}

/** Saves a customer directly (for data the test is not about). */
export async function insertCustomer(overrides: Partial<CustomerInput> & { created_at?: Date } = {}) {
  const input = buildCustomer(overrides);
  const { owner_id: owner, ...fields } = input;
  const doc = await Customer.create({
    ...fields,
    owner: owner ? new mongoose.Types.ObjectId(owner) : undefined,
    search_terms: searchTermsFor(fields),
    company_key: companyKey(fields.company),
    ...duplicateKeysFor({ ...fields, companyKey: companyKey(fields.company) }),
    ...(overrides.created_at ? { created_at: overrides.created_at } : {}),
  });
  return doc;
}
