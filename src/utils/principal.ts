import { roleHas, type Permission, type Role } from '../config/permissions';

/** Who is calling: a staff user or a customer, with the role their permissions derive from. */
export interface Principal {
  type: 'user' | 'customer';
  id: string;
  role: Role;
}

export function can(principal: Principal, permission: Permission): boolean {
  return roleHas(principal.role, permission);
}
