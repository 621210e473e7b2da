import { z } from 'zod';
import { staffRoles } from '../config/permissions';
import { pagingQuery } from '../utils/paging';
import { email, name, objectId, originalKeys, password, someField } from './common.schema';

const role = z.enum(staffRoles).meta({ description: 'Staff role', example: 'USER' });

export const userResponse = z
  .object({
    id: objectId,
    user_id: objectId,
    name: z.string(),
    email: z.string(),
    role,
    created_at: z.string().meta({ format: 'date-time' }),
    updated_at: z.string().meta({ format: 'date-time' }),
  })
  .strict()
  .meta({ id: 'User' });

export const userParams = z.object({ user_id: objectId }).strict();

export const signupUser = {
  body: z
    .object({
      name,
      email,
      password,
      // Only an ADMIN may choose a role; anyone else sending one gets 403.
      role: role.optional(),
    })
    .strict()
    .meta({
      id: 'UserSignup',
      description: `${originalKeys} \`{"Email": …, "Password": …, "name": …}\`.`,
      example: { email: 'sita@gmail.com', password: '$15$lShiva', name: 'sita', role: 'ADMIN' },
    }),
};

export const listUsers = {
  query: z
    .object({
      ...pagingQuery(['created_at', 'name'] as const, 'created_at'),
      role: role.optional(),
    })
    .strict(),
};

export const getUser = { params: userParams };

export const updateUser = {
  params: userParams,
  body: someField(
    z
      .object({
        name: name.optional(),
        email: email.optional(),
        password: password.optional(),
        // Needed when changing one's own password.
        current_password: z.string().max(200).optional(),
        role: role.optional(),
      })
      .strict(),
  ).meta({ id: 'UserUpdate', example: { name: 'sahil' } }),
};

export const deleteUser = {
  params: userParams,
  query: z
    .object({
      reassign_to: objectId.optional().meta({ description: "Staff user who takes over the deleted user's customers and interactions" }),
    })
    .strict(),
};

export type SignupUserBody = z.output<typeof signupUser.body>;
export type ListUsersQuery = z.output<typeof listUsers.query>;
export type UpdateUserBody = z.output<typeof updateUser.body>;
