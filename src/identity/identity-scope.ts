import type { Db, TenantTx, Tx } from '../db/db.ts';
import type { Actor, Role } from '../access/permissions.ts';
import type { AuditActor } from '../audit/audit-leaf.ts';
import type { Client } from './sessions-service.ts';

/**
 * A transaction for one tenant's users (under RLS), or in platform context
 * for platform users (tenantId null). `ttx` is the tenant transaction, or
 * null for platform users.
 */
export function inScope<T>(db: Db, tenantId: string | null, fn: (tx: Tx, ttx: TenantTx | null) => Promise<T>): Promise<T> {
  return tenantId ? db.withTenant(tenantId, (ttx) => fn(ttx, ttx)) : db.transaction((tx) => fn(tx, null));
}

// The event types identity records (the security-events catalogue describes each).
export type IdentityEventType = 'login.succeeded' | 'login.failed' | 'mfa.failed' | 'account.locked' | 'password.changed'
  | 'role.changed' | 'user.deactivated' | 'user.reactivated' | 'mfa.reset' | 'auth_policy.changed';

export interface IdentityEvent extends Client {
  type: IdentityEventType; actor: Actor; detail?: Record<string, string | number | boolean | null>;
}

/** The security-events service's inner record forms (the seam identity writes through). */
export interface SecurityEventsSeam {
  record(tx: TenantTx, input: IdentityEvent): Promise<unknown>;
  recordPlatform(tx: Tx, input: IdentityEvent): Promise<unknown>;
}

/** Records on the tenant, or as a platform event for platform users, in the caller's transaction. */
export const recordEvent = (events: SecurityEventsSeam, tx: Tx, ttx: TenantTx | null, input: IdentityEvent) =>
  ttx ? events.record(ttx, input) : events.recordPlatform(tx, input);

/** Trimmed, NFC, lower case: the form e-mails are unique and looked up in. */
export const normaliseEmail = (email: string) => email.trim().normalize('NFC').toLowerCase();

/** The user itself, before it has a session (accepting an invitation, logging in). */
export const selfActor = (user: { id: string; role: Role }): AuditActor => ({ type: 'user', id: user.id, role: user.role });

/** An audit entry about a user (ids, roles and flags only), committed with the change. */
export function auditUser(tx: Tx, action: string, actor: AuditActor | Actor, user: { id: string; tenantId: string | null },
  detail?: Record<string, string | number | boolean | null>) {
  tx.audit({ action, actor: actor as AuditActor, tenantId: user.tenantId, target: { type: 'user', id: user.id }, ...(detail ? { detail } : {}) });
}
