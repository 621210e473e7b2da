import type { Request, Response } from 'express';
import * as schemas from '../schemas/auth.schema';
import { signupCustomer as signupCustomerSchema } from '../schemas/customer.schema';
import { signupUser as signupUserSchema } from '../schemas/user.schema';
import { parsedBody } from '../middleware/validate';
import * as authService from '../services/auth.service';
import { currentPrincipal, optionalPrincipal } from '../middleware/authenticate';

export async function signupUser(_req: Request, res: Response) {
  const user = await authService.signupUser(parsedBody(res, signupUserSchema), optionalPrincipal(res));
  res.status(201).location(`/users/${user.id}`).json({ message: 'User created successfully', user });
}

export async function signinUser(_req: Request, res: Response) {
  res.json(await authService.signinUser(parsedBody(res, schemas.signin)));
}

export async function signupCustomer(_req: Request, res: Response) {
  const id = await authService.signupCustomer(parsedBody(res, signupCustomerSchema));
  // The original answered with the raw Mongo driver's InsertOneResult under `insertId`.
  res
    .status(201)
    .location(`/customers/${id}`)
    .json({ insertId: { InsertedID: id }, message: 'Customer created successfully' });
}

export async function signinCustomer(_req: Request, res: Response) {
  res.json(await authService.signinCustomer(parsedBody(res, schemas.signin)));
}

export async function refresh(_req: Request, res: Response) {
  res.json(await authService.refresh(parsedBody(res, schemas.refresh).refresh_token));
}

export async function logout(_req: Request, res: Response) {
  await authService.logout(parsedBody(res, schemas.logout), optionalPrincipal(res));
  res.json({ message: 'Logged out successfully' });
}

export async function me(_req: Request, res: Response) {
  res.json(await authService.me(currentPrincipal(res)));
}
