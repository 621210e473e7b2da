import { describe, expect, it } from '@jest/globals';
import { Types } from 'mongoose';
import { Customer, customerView, publicCustomerFields } from '../../src/models/customer.model';
import { customerResponse } from '../../src/schemas/customer.schema';
import { exportRow } from '../../src/schemas/import.schema';

// The public customer shape is declared once (publicCustomerFields); TypeScript checks that the view and
// the schemas name exactly those fields, and these tests that they list them in the same order.
describe('the public customer shape', () => {
  const customer = new Customer({
    name: 'Ada Lovelace',
    email: 'ada@example.com',
    company: 'Analytical Engines',
    status: 'active',
    owner: new Types.ObjectId(),
    tags: ['vip'],
    address: { city: 'London' },
  });
  customer.set({ created_at: new Date('2026-01-02T03:04:05Z'), updated_at: new Date('2026-01-03T03:04:05Z') });

  it('lists the public fields in one order in the view and in both response schemas', () => {
    expect(Object.keys(customerView(customer))).toEqual(['id', 'customer_id', ...publicCustomerFields]);
    expect(Object.keys(customerResponse.shape)).toEqual(['id', 'customer_id', ...publicCustomerFields]);
    expect(Object.keys(exportRow.shape)).toEqual(['id', ...publicCustomerFields]);
  });

  it('answers a view that its response schema accepts, absent values as null', () => {
    const sent: unknown = JSON.parse(JSON.stringify(customerView(customer)));
    expect(customerResponse.parse(sent)).toMatchObject({
      phone: null,
      address: { street: null, city: 'London', state: null, postal_code: null, country: null },
      created_at: '2026-01-02T03:04:05.000Z',
    });
  });
});
