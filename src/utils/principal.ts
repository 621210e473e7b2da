import { roleHas, type Permission, type Role } from '../config/permissions';

/** Who is calling: a staff user or a customer, with the role their permissions derive from. */
export interface Principal {
  type: 'user' | 'customer';
  id: string;
  role: Role;
  /** Set when the caller authenticated with an API key: its id, public prefix and scopes. */
  apiKey?: { id: string; prefix: string; scopes: ReadonlySet<Permission> };
}

/** The role's permission, and for an API key only if the key's scopes name it too (never more than its owner). */
export function can(principal: Principal, permission: Permission): boolean {
  return roleHas(principal.role, permission) && (principal.apiKey === undefined || principal.apiKey.scopes.has(permission));
}
