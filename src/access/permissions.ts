import { RequestError } from '../errors.ts';

export type Role = 'operator' | 'admin' | 'editor' | 'viewer';
export const TENANT_ROLES = ['admin', 'editor', 'viewer'] as const;

/** Who is acting. API keys today; users (identity issue) join as another `type`. */
export interface Actor {
  type: 'api_key';
  id: string;
  name: string;
  role: Role;
  /** null for platform (operator) actors. */
  tenantId: string | null;
}

// The role × action matrix. Platform actions reach any tenant; tenant actions
// only the actor's own tenant. Operators manage tenants and keys but never
// read tenant data: they are not in any records/collections row.
export const permissions = {
  'tenants.create': ['operator'],
  'tenants.list': ['operator'],
  'tenants.read': ['operator', 'admin', 'editor', 'viewer'],
  'api_keys.manage': ['operator', 'admin'],
  'operator_keys.manage': ['operator'],
  'keys.rotate': ['operator', 'admin'],
  'collections.create': ['admin'],
  'collections.read': ['admin', 'editor', 'viewer'],
  'records.read': ['admin', 'editor', 'viewer'],
  'records.write': ['admin', 'editor'],
} as const satisfies Record<string, readonly Role[]>;

export type Action = keyof typeof permissions;

export function can(role: Role, action: Action): boolean {
  return (permissions[action] as readonly Role[]).includes(role);
}

/**
 * Another tenant's id answers 404, never 403, so a key cannot probe which
 * tenants exist. A permitted tenant but a forbidden action answers 403.
 */
export function authorizeTenant(actor: Actor, tenantId: string, action: Action): void {
  if (actor.role !== 'operator' && actor.tenantId !== tenantId) throw new RequestError('tenant.not_found');
  if (!can(actor.role, action)) throw new RequestError('auth.forbidden', `Role '${actor.role}' may not perform ${action}`);
}

export function authorizePlatform(actor: Actor, action: Action): void {
  if (!can(actor.role, action)) throw new RequestError('auth.forbidden', `Role '${actor.role}' may not perform ${action}`);
}
