import type { Response } from 'express';
import { roleHas, type Permission, type Role } from '../config/permissions';
import { AppError } from './app-error';

/** Who is calling: a staff user or a customer, with the role their permissions derive from. */
export interface Principal {
  type: 'user' | 'customer';
  id: string;
  role: Role;
}

export function can(principal: Principal, permission: Permission): boolean {
  return roleHas(principal.role, permission);
}

/** The authenticated caller, set by `authenticate`. */
export function currentPrincipal(res: Response): Principal {
  const principal: unknown = res.locals.principal;
  if (!isPrincipal(principal)) throw AppError.unauthorized();
  return principal;
}

function isPrincipal(value: unknown): value is Principal {
  return typeof value === 'object' && value !== null && 'type' in value && 'id' in value && 'role' in value;
}

/** The caller if a token was sent (routes using `authenticateOptional`). */
export function optionalPrincipal(res: Response): Principal | undefined {
  const principal: unknown = res.locals.principal;
  return isPrincipal(principal) ? principal : undefined;
}
