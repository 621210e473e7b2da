import { describe, expect, it } from '@jest/globals';
import { Customer, newCustomerRecord, type NewCustomer } from '../../src/models/customer.model';
import { createCustomer } from '../../src/schemas/customer.schema';

// POST /customers stores newCustomerRecord's record without a Mongoose document. It must be what the model
// would have stored for the same checked body — the same fields, defaults and derived keys — and pass the
// model's validation; a rule added to the model and not to the request schema fails here.
const owner = '66d3ccc9e71590f28320f639';
const at = new Date('2026-01-02T03:04:05Z');

const bodies: Record<string, unknown>[] = [
  { name: 'Ada', email: 'ada@example.com' },
  {
    name: '  Ada Lovelace ',
    email: ' Ada@Example.COM ',
    company: ' Analytical Engines ',
    phone: ' +44 20 7946 0000 ',
    status: 'active',
    tags: [' vip ', 'uk'],
    address: { country: ' UK ', city: 'London' },
  },
  { name: 'Bo', email: 'bo@example.com', company: '', tags: [], address: {} },
  { name: 'x'.repeat(200), email: `${'e'.repeat(240)}@example.com`, company: 'c'.repeat(200), phone: '1'.repeat(50) },
  { name: 'Émile Zoë', email: 'emile@example.fr', company: 'ÉCOLE', address: { street: '1 rue', postal_code: '75001' } },
];

function modelRecord(fields: NewCustomer, record: ReturnType<typeof newCustomerRecord>) {
  // What the service built before: the model casting and defaulting the same input, with the same derived keys.
  const document = new Customer({
    ...fields,
    _id: record._id,
    search_terms: record.search_terms,
    company_key: record.company_key,
    phone_key: record.phone_key,
    email_key: record.email_key,
    name_key: record.name_key,
    created_at: at,
    updated_at: at,
  });
  return { document, stored: document.toObject() };
}

describe('newCustomerRecord', () => {
  it.each(bodies)('stores what the model would, and the model validates it: %j', async (body) => {
    const fields: NewCustomer = { ...createCustomer.body.parse(body), owner, password_hash: '$2b$12$hash' };
    const record = newCustomerRecord(fields, at);
    const { document, stored } = modelRecord(fields, record);
    await expect(document.validate()).resolves.toBeUndefined();
    expect(record).toEqual(stored);
    expect(Object.keys(record).sort()).toEqual(Object.keys(stored).sort());
    await expect(new Customer(record).validate()).resolves.toBeUndefined();
  });

  it('leaves absent optional fields out rather than storing them as null', () => {
    const record = newCustomerRecord({ name: 'Ada', email: 'ada@example.com', owner }, at);
    expect(Object.keys(record).sort()).toEqual(
      ['_id', 'created_at', 'email', 'email_key', 'name', 'owner', 'search_terms', 'status', 'tags', 'token_version', 'updated_at'].sort(),
    );
    expect(record).toMatchObject({ status: 'lead', tags: [], token_version: 0, created_at: at, updated_at: at });
    expect(record.owner?.toHexString()).toBe(owner);
  });

  it('derives the company key and the search terms, and copies what it is given', () => {
    const tags = ['vip'];
    const address = { city: 'Pune' };
    const record = newCustomerRecord(
      { name: 'Ada Lovelace', email: 'ada@example.com', company: ' TATA Motors ', tags, address, owner },
      at,
    );
    expect(record.company_key).toBe('tata motors');
    expect(record.name_key).toBe('ada lovelace\u0000tata motors');
    expect(record.email_key).toBe('ada@example.com');
    expect(record.search_terms).toEqual(expect.arrayContaining(['ada', 'lovelace', 'example', 'com', 'tata', 'motors', 'ada@example.com']));
    expect(record.tags).not.toBe(tags);
    expect(record.address).not.toBe(address);
    expect(record.address).toEqual({ city: 'Pune' });
  });
});
