import { z } from 'zod';
import { originalKeys } from './common.schema';
import { customerResponse } from './customer.schema';
import { userResponse } from './user.schema';

export const signin = {
  body: z
    .object({
      email: z.string().trim().toLowerCase().max(254).meta({ example: 'sita@gmail.com' }),
      password: z.string().max(200).meta({ format: 'password', example: '$15$lShiva' }),
    })
    .strict()
    .meta({
      id: 'Signin',
      description: `${originalKeys} \`{"Email": …, "Password": …}\`.`,
      example: { email: 'sita@gmail.com', password: '$15$lShiva' },
    }),
};

export const refresh = {
  body: z
    .object({ refresh_token: z.string().min(1).max(200) })
    .strict()
    .meta({ id: 'RefreshRequest' }),
};

export const logout = {
  body: z
    .object({
      refresh_token: z.string().min(1).max(200).optional().meta({ description: 'The sign-in to end' }),
      all: z.boolean().optional().meta({ description: 'End every session of the caller (needs an access token)' }),
    })
    .strict()
    .meta({
      id: 'LogoutRequest',
      // The service's rule (services/auth.service.ts logout), stated for clients: a sign-in to end, or all of them.
      anyOf: [{ required: ['refresh_token'] }, { required: ['all'], properties: { all: { const: true } } }],
    }),
};

const tokenFields = {
  token: z.string().meta({ description: 'Access JWT (HS256)' }),
  refresh_token: z.string().meta({ description: 'Opaque refresh token; rotated on every use' }),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int().meta({ description: 'Access token lifetime in seconds' }),
};

export const tokenResponse = z.object(tokenFields).strict().meta({ id: 'Tokens' });

export const userSigninResponse = z
  .object({
    msg: z.literal('User logged in successfully'),
    ...tokenFields,
    user: userResponse.extend({ token: z.string() }),
  })
  .strict()
  .meta({ id: 'UserSigninResponse' });

export const customerSigninResponse = z
  .object({
    message: z.literal('Customer logged in successfully'),
    ...tokenFields,
    customer: customerResponse.extend({ token: z.string() }),
  })
  .strict()
  .meta({ id: 'CustomerSigninResponse' });

export const userSignupResponse = z
  .object({ message: z.literal('User created successfully'), user: userResponse })
  .strict()
  .meta({ id: 'UserSignupResponse' });

export const customerSignupResponse = z
  .object({
    insertId: z.object({ InsertedID: z.string() }).strict(),
    message: z.literal('Customer created successfully'),
  })
  .strict()
  .meta({ id: 'CustomerSignupResponse' });

export const meResponse = z
  .union([
    userResponse.extend({ type: z.literal('user'), permissions: z.array(z.string()) }),
    customerResponse.extend({ type: z.literal('customer'), role: z.literal('CUSTOMER'), permissions: z.array(z.string()) }),
  ])
  .meta({ id: 'Me' });

export type SigninBody = z.output<typeof signin.body>;
