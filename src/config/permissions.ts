// Who may do what (SPEC §3). Routes ask for permissions, never for role names; ownership ("own records
// only") is a query scope in the services, so a foreign id is simply not found.

export const staffRoles = ['ADMIN', 'MANAGER', 'USER'] as const;
export type StaffRole = (typeof staffRoles)[number];
export type Role = StaffRole | 'CUSTOMER';

export const permissionList = [
  // staff accounts
  'users:create', // create staff users (after bootstrap), choose their role
  'users:manage', // update any staff user, change roles, delete users
  'users:read', // list/read staff users (without users:read-all: only oneself)
  'users:read-all',
  'users:update-self', // own name, e-mail, password — never own role
  // customers
  'customers:read', // every customer record
  'customers:write', // create and update customer records
  'customers:delete',
  'customers:self', // a customer's own record (read, update contact details)
  'customers:merge', // merge duplicates into one customer, read and undo merges
  'customers:duplicates-all', // every group of likely duplicates (without it: the groups among one's own customers)
  // interactions
  'interactions:read', // own (user = self) — or, for a customer, its own without internal notes
  'interactions:read-all',
  'interactions:write', // create/update/delete own interactions
  'interactions:write-all',
  // tickets
  'tickets:create', // on interactions the caller may see
  'tickets:read', // assigned to self or on own interactions (customer: own tickets)
  'tickets:read-all',
  'tickets:update', // status/priority/assignee of tickets assigned to self (customer: close/edit own open)
  'tickets:update-all',
  'tickets:delete', // a customer's own open ticket
  'tickets:delete-all',
  // data, analytics, notifications, administration
  'data:import',
  'data:export',
  'analytics:read', // own figures
  'analytics:read-all',
  'notifications:read',
  'activity:read', // a customer's timeline
  'activity:read-all', // the whole audit trail
  'outbox:manage',
  // integrations
  'api-keys:manage', // create, list and revoke one's own API keys
  'api-keys:manage-all', // list and revoke anyone's
  'webhooks:manage', // webhook endpoints, their secrets and deliveries
  // data hygiene
  'trash:read', // list deleted records and what each deletion removed
  'trash:restore',
  'trash:purge', // remove a deletion for good before its retention ends
] as const;
export type Permission = (typeof permissionList)[number];

const staffCommon = [
  'users:read',
  'users:update-self',
  'customers:read',
  'customers:write',
  'interactions:read',
  'interactions:write',
  'tickets:create',
  'tickets:read',
  'tickets:update',
  'analytics:read',
  'notifications:read',
  'activity:read',
  'api-keys:manage',
] as const satisfies readonly Permission[];

const managerExtra = [
  'users:read-all',
  'customers:delete',
  'customers:merge',
  'customers:duplicates-all',
  'interactions:read-all',
  'interactions:write-all',
  'tickets:read-all',
  'tickets:update-all',
  'tickets:delete-all',
  'data:import',
  'data:export',
  'analytics:read-all',
  'trash:read',
  'trash:restore',
] as const satisfies readonly Permission[];

export const rolePermissions = {
  ADMIN: [
    ...staffCommon,
    ...managerExtra,
    'users:create',
    'users:manage',
    'activity:read-all',
    'outbox:manage',
    'api-keys:manage-all',
    'webhooks:manage',
    'trash:purge',
  ],
  MANAGER: [...staffCommon, ...managerExtra],
  USER: [...staffCommon],
  CUSTOMER: [
    'customers:self',
    'interactions:read',
    'tickets:create',
    'tickets:read',
    'tickets:update',
    'tickets:delete',
    'notifications:read',
  ],
} as const satisfies Record<Role, readonly Permission[]>;

export const roles = [...staffRoles, 'CUSTOMER'] as const satisfies readonly Role[];

const permissionSets = new Map<Role, ReadonlySet<Permission>>(roles.map((role) => [role, new Set<Permission>(rolePermissions[role])]));

export function roleHas(role: Role, permission: Permission): boolean {
  return permissionSets.get(role)?.has(permission) ?? false;
}
