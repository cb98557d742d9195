import { RequestError } from '../errors.ts';

export type Role = 'operator' | 'admin' | 'editor' | 'viewer';
export const TENANT_ROLES = ['admin', 'editor', 'viewer'] as const;

/**
 * Who is acting, carried from the authenticator chain to every service call
 * and log line (ids only, never a secret). `tenantId` is null for platform
 * actors (operators) and for the system. Users arrive with the identity work.
 */
export type Actor =
  | { type: 'api_key'; id: string; name: string; role: Role; tenantId: string | null }
  | { type: 'user'; id: string; name: string; role: Role; tenantId: string }
  | { type: 'system'; id: string; name: string; role: 'system'; tenantId: null };

/** Background work (rotation, sequencing, retention) acts as the system, named by its job. */
export const systemActor = (job: string): Actor => ({ type: 'system', id: job, name: job, role: 'system', tenantId: null });

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
  // The Merkle log's heads and proofs hold only hashes; entries carry no field values, and a tenant reads only its own.
  'audit_log.read': ['operator', 'admin'],
  // The tenant's audit log and record histories; operators read any tenant's.
  'audit.read': ['operator', 'admin'],
  // Every tenant's entries at once (the SIEM export).
  'audit.export': ['operator'],
} as const satisfies Record<string, readonly Role[]>;

export type Action = keyof typeof permissions;

export function can(role: Role | 'system', action: Action): boolean {
  return (permissions[action] as readonly string[]).includes(role);
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
