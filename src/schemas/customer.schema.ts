import { z } from 'zod';
import { customerStatuses, type AddressPart, type PublicCustomerField } from '../models/customer.model';
import { pagingQuery } from '../utils/paging';
import { email, name, notBlank, objectId, originalKeys, password, someField } from './common.schema';

const status = z.enum(customerStatuses).meta({ example: 'lead' });
const company = z.string().trim().max(200).meta({ example: 'TATA' });
const phone = z
  .string()
  .trim()
  .max(50)
  .regex(/^[+0-9][0-9\s().\-/x]*$/, 'expected a phone number such as +91 35636621762')
  .meta({ example: '+91 35636621762' });
const tags = z
  .array(z.string().trim().min(1).max(50).meta({ pattern: notBlank }))
  .max(50)
  .meta({ example: ['vip'] });
const addressPart = {
  street: z.string().trim().max(200),
  city: z.string().trim().max(100),
  state: z.string().trim().max(100),
  postal_code: z.string().trim().max(20),
  country: z.string().trim().max(100),
} satisfies Record<AddressPart, z.ZodType>;
const address = z
  .object({
    street: addressPart.street.optional(),
    city: addressPart.city.optional(),
    state: addressPart.state.optional(),
    postal_code: addressPart.postal_code.optional(),
    country: addressPart.country.optional(),
  })
  .strict()
  .meta({ id: 'Address' });
/** An address in a PATCH body: a JSON merge patch (RFC 7396) of the stored one. */
const addressPatch = z
  .object({
    street: addressPart.street.nullable().optional(),
    city: addressPart.city.nullable().optional(),
    state: addressPart.state.nullable().optional(),
    postal_code: addressPart.postal_code.nullable().optional(),
    country: addressPart.country.nullable().optional(),
  })
  .strict()
  .meta({
    id: 'AddressPatch',
    description:
      'Merged into the stored address (JSON merge patch, RFC 7396): a part not sent is kept, a part sent as null is cleared; ' +
      '`"address": null` clears the whole address',
    example: { city: 'Pune' },
  });

const nullableString = z.string().nullable();

/**
 * The public customer fields as responses carry them: one entry per name of `publicCustomerFields`
 * (models/customer.model.ts), in its order. The customer responses and the export rows are built from it.
 */
export const publicCustomerShape = {
  name: z.string(),
  email: z.string(),
  company: nullableString,
  phone: nullableString,
  status,
  owner_id: objectId.nullable(),
  tags: z.array(z.string()),
  address: z
    .object({
      street: nullableString,
      city: nullableString,
      state: nullableString,
      postal_code: nullableString,
      country: nullableString,
    } satisfies Record<AddressPart, z.ZodType>)
    .strict()
    .nullable(),
  created_at: z.string().meta({ format: 'date-time' }),
  updated_at: z.string().meta({ format: 'date-time' }),
} satisfies Record<PublicCustomerField, z.ZodType>;

export const customerResponse = z
  .object({ id: objectId, customer_id: objectId, ...publicCustomerShape })
  .strict()
  .meta({ id: 'Customer' });

export const customerParams = z.object({ cust_id: objectId }).strict();

/** Fields a customer may set on its own record. */
const selfFields = {
  name,
  email,
  company: company.optional(),
  phone: phone.optional(),
  tags: tags.optional(),
  address: address.optional(),
};

export const signupCustomer = {
  body: z
    .object({
      ...selfFields,
      password,
      // Customers never have a role; sending one is an escalation attempt and answers 403.
      role: z.unknown().optional().meta({ description: 'Refused with 403 if present' }),
    })
    .strict()
    .meta({
      id: 'CustomerSignup',
      description: `${originalKeys} \`{"Name": …, "Email": …, "Password": …, "Company": …, "Phone": …}\`.`,
      example: { name: 'ramlal', email: 'ram@gmail.com', password: '$2a$15$lShiva', company: 'TATA', phone: '+91 35636621762' },
    }),
};

export const createCustomer = {
  body: z
    .object({
      ...selfFields,
      status: status.optional(),
      owner_id: objectId.optional().meta({ description: 'Staff owner; defaults to the caller' }),
      password: password.optional().meta({ description: 'Lets the customer sign in to the self-service routes' }),
    })
    .strict()
    .meta({ id: 'CustomerCreate', example: { name: 'ramlal', email: 'ram@gmail.com', company: 'TATA', phone: '+91 35636621762' } }),
};

export const updateCustomer = {
  params: customerParams,
  body: someField(
    z
      .object({
        name: name.optional(),
        email: email.optional(),
        company: company.nullable().optional(),
        phone: phone.nullable().optional(),
        tags: tags.optional(),
        address: addressPatch.nullable().optional(),
        status: status.optional(),
        owner_id: objectId.nullable().optional(),
        password: password.optional(),
        current_password: z.string().max(200).optional(),
      })
      .strict(),
  ).meta({ id: 'CustomerUpdate', example: { status: 'active', tags: ['vip'] } }),
};

export const listCustomers = {
  query: z
    .object({
      ...pagingQuery(['created_at', 'updated_at', 'name'] as const, 'created_at'),
      q: z
        .string()
        .trim()
        .min(1)
        .max(100)
        .optional()
        .meta({ pattern: notBlank, description: 'Prefix search over the words of name, e-mail and company' }),
      status: status.optional(),
      company: z
        .string()
        .trim()
        .min(1)
        .max(200)
        .optional()
        .meta({ pattern: notBlank, description: 'The exact company name, in any case (`acme` finds `ACME`)' }),
      owner: objectId.optional().meta({ description: 'Owner staff user id' }),
      tag: z.string().trim().min(1).max(50).optional().meta({ pattern: notBlank }),
    })
    .strict(),
};

export const getCustomer = { params: customerParams };

export const deleteCustomer = {
  params: customerParams,
  query: z
    .object({
      cascade: z.enum(['true', 'false']).optional().meta({ description: "Also delete the customer's interactions and tickets" }),
    })
    .strict(),
};

export type SignupCustomerBody = z.output<typeof signupCustomer.body>;
export type CreateCustomerBody = z.output<typeof createCustomer.body>;
export type UpdateCustomerBody = z.output<typeof updateCustomer.body>;
export type ListCustomersQuery = z.output<typeof listCustomers.query>;
export type CustomerFilters = Omit<ListCustomersQuery, 'page' | 'limit' | 'sort' | 'after'>;
