import { RequestError } from '../errors.ts';

/**
 * Platform roles (`operator`, `support`) act across tenants and hold no
 * tenant of their own; tenant roles act in their tenant only, `owner` at the
 * top. The order of TENANT_ROLES is the order of rank (see outranks()).
 */
export type Role = 'operator' | 'support' | 'owner' | 'admin' | 'editor' | 'viewer' | 'auditor';
export const ROLES = ['operator', 'support', 'owner', 'admin', 'editor', 'viewer', 'auditor'] as const satisfies readonly Role[];
export const TENANT_ROLES = ['owner', 'admin', 'editor', 'viewer', 'auditor'] as const satisfies readonly Role[];
export const PLATFORM_ROLES = ['operator', 'support'] as const satisfies readonly Role[];
export type TenantRole = (typeof TENANT_ROLES)[number];
export type PlatformRole = (typeof PLATFORM_ROLES)[number];

/**
 * Who is acting, carried from the authenticator chain to every service call
 * and log line (ids only, never a secret). `tenantId` is null for platform
 * actors (operators, support) and for the system. An API key may be limited to
 * some collections (`collections`, null = all) and may expire. `grantId`: a
 * support actor acting on a tenant under that approved support grant.
 */
export type Actor =
  | { type: 'api_key'; id: string; name: string; role: Role; tenantId: string | null; collections?: readonly string[] | null; expiresAt?: Date | null; grantId?: string;
      /** The purposes the key acts for (null: whatever its collection serves). */
      purposes?: readonly string[] | null }
  | { type: 'user'; id: string; name: string; role: Role; tenantId: string | null; sessionId: string; grantId?: string }
  | { type: 'system'; id: string; name: string; role: 'system'; tenantId: null };

/** Background work (rotation, sequencing, retention) acts as the system, named by its job. */
export const systemActor = (job: string): Actor => ({ type: 'system', id: job, name: job, role: 'system', tenantId: null });

// The role × action matrix, the one source of who may do what: served at
// GET /v1/permissions, stated per route in OpenAPI (x-required-roles), rendered
// into docs/api.md, and walked route by route by test/access/route-matrix.test.ts.
// Platform roles reach any tenant for the actions listed here; tenant roles
// only their own tenant. Operators manage tenants and keys but never read
// tenant data; support holds nothing but the right to ask for a grant (with an
// approved grant it acts as SUPPORT_GRANT_ROLE on that tenant); auditors read
// audit and security events, never personal data.
export const permissions = {
  'tenants.create': ['operator'],
  'tenants.list': ['operator'],
  'tenants.read': ['operator', 'owner', 'admin', 'editor', 'viewer', 'auditor'],
  'api_keys.manage': ['operator', 'owner', 'admin'],
  'operator_keys.manage': ['operator'],
  'keys.rotate': ['operator', 'owner', 'admin'],
  'collections.create': ['owner', 'admin'],
  'collections.read': ['owner', 'admin', 'editor', 'viewer'],
  'records.read': ['owner', 'admin', 'editor', 'viewer'],
  'records.write': ['owner', 'admin', 'editor'],
  'records.unmask': ['owner', 'admin', 'editor'],
  // Re-identification undoes pseudonymisation: its own permission, owners only, with a reason, audited.
  'pseudonym.resolve': ['owner'],
  'security_events.read': ['owner', 'admin', 'auditor'],
  'platform_security_events.read': ['operator'],
  'support_grants.request': ['support'],
  'support_grants.read': ['owner', 'admin', 'auditor'],
  'support_grants.approve': ['owner'],
  'support_settings.manage': ['owner'],
  // The Merkle log's heads and proofs hold only hashes; entries carry no field values, and a tenant reads only its own.
  'audit_log.read': ['operator', 'owner', 'admin', 'auditor'],
  // The tenant's audit log and record histories; operators read any tenant's.
  'audit.read': ['operator', 'owner', 'admin', 'auditor'],
  // Operators may invite only a tenant's first owner (checked by the users service).
  'users.invite': ['operator', 'owner', 'admin'],
  'users.manage': ['owner', 'admin'],
  'auth_policy.read': ['owner', 'admin', 'auditor'],
  'auth_policy.manage': ['owner', 'admin'],
  'platform_users.manage': ['operator'],
  // Resetting a lost authenticator: an operator can help a locked-out owner.
  'users.reset_mfa': ['operator', 'owner', 'admin'],
  // One's own session, password and second factor.
  'account.self': ['operator', 'support', 'owner', 'admin', 'editor', 'viewer', 'auditor'],
  // Every tenant's entries at once (the SIEM export).
  'audit.export': ['operator'],
  // Every record of the tenant in clear: its owner, and the processor's operator handing the data back at the end of the contract.
  'tenant.export': ['operator', 'owner'],
  'backups.manage': ['operator'],
  // Data-subject requests reach every collection of the tenant at once, values in full.
  'subjects.read': ['owner', 'admin'],
  'subjects.erase': ['owner', 'admin'],
  'legal_holds.read': ['owner', 'admin', 'auditor'],
  'legal_holds.manage': ['owner', 'admin'],
  'backups.read': ['operator'],
  // The client documents its instructions; the processor's operator confirms them (the order confirmation).
  'instructions.read': ['operator', 'owner', 'admin', 'auditor'],
  'instructions.write': ['owner', 'admin'],
  'instructions.confirm': ['operator'],
  // The platform's sub-processor register: operators keep it, tenants read it and may object to changes.
  'sub_processors.manage': ['operator'],
  'sub_processors.read': ['operator', 'owner', 'admin', 'auditor'],
  'sub_processors.object': ['owner'],
  'notifications.manage': ['owner', 'admin'],
  // Closing is the end of the contract: the platform or the tenant's owner; reopening likewise, until the keys are destroyed.
  'tenants.close': ['operator', 'owner'],
  'deletion_certificates.read': ['operator', 'owner', 'auditor'],
  'retention.read': ['owner', 'admin', 'auditor'],
  'retention.manage': ['owner', 'admin'],
  // The deployment's TOM register and annex: the operator keeps it; a tenant's owner and auditor fetch the annex that applies to them.
  'tom.read': ['operator'],
  'tom.manage': ['operator'],
  'tom.report': ['operator', 'owner', 'auditor'],
  // The incident register is the platform's (Art. 33(2): the processor informs each controller); a tenant reads its own part.
  'incidents.manage': ['operator'],
  'incidents.read': ['operator', 'owner', 'admin', 'auditor'],
} as const satisfies Record<string, readonly Role[]>;

export type Action = keyof typeof permissions;

/** One line per action, for GET /v1/permissions and the generated tables. */
export const actionDescriptions: Record<Action, string> = {
  'tenants.create': 'create tenants',
  'tenants.list': 'list all tenants',
  'tenants.read': 'read a tenant\'s name and status',
  'api_keys.manage': 'create, list and revoke a tenant\'s API keys (roles at or below one\'s own)',
  'operator_keys.manage': 'create, list and revoke operator keys',
  'keys.rotate': 'read key status, rotate a tenant\'s data key and pseudonym key, discard unreadable records',
  'collections.create': 'define collections',
  'collections.read': 'read collection definitions',
  'records.read': 'read, list and search records (masked fields masked)',
  'records.write': 'create, update, delete and import records',
  'records.unmask': 'see masked fields in full',
  'pseudonym.resolve': 're-identify a pseudonym (its value), with a reason; audited',
  'security_events.read': 'read the tenant\'s security events',
  'platform_security_events.read': 'read platform security events',
  'support_grants.request': 'ask a tenant for break-glass read access',
  'support_grants.read': 'list a tenant\'s support grants',
  'support_grants.approve': 'approve a support grant',
  'support_settings.manage': 'pre-authorise support access for the tenant',
  'audit_log.read': 'read the audit log: tree heads, proofs, and the tenant\'s own entries',
  'audit.read': 'query the tenant\'s audit entries and record histories',
  'audit.export': 'export every tenant\'s audit entries (SIEM)',
  'tenant.export': 'export every record of a tenant in clear (NDJSON stream; portability, end of contract)',
  'backups.manage': 'back up the embedded store, run restore verifications',
  'backups.read': 'list backups and read the signed restore-verification evidence',
  'subjects.read': 'find and export every record of a data subject across the tenant\'s collections (Art. 15/20)',
  'subjects.erase': 'erase every record of a data subject (Art. 17), recorded in the erasure ledger',
  'legal_holds.read': 'list the tenant\'s legal holds',
  'legal_holds.manage': 'place and release legal holds on data subjects',
  'users.invite': 'invite users (roles at or below one\'s own; operators only a tenant\'s first owner)',
  'users.manage': 'list users, change their role or status, issue password resets',
  'auth_policy.read': 'read the tenant\'s password and session policy',
  'auth_policy.manage': 'make the tenant\'s password and session policy stricter than the platform\'s',
  'platform_users.manage': 'invite and manage operator and support users',
  'users.reset_mfa': 'reset a user\'s second factor',
  'account.self': 'one\'s own session, sessions list, logout and password',
  'instructions.read': 'read the tenant\'s instructions and their confirmations',
  'instructions.write': 'enter a new version of the tenant\'s instructions (in force once confirmed)',
  'instructions.confirm': 'confirm a version of a tenant\'s instructions (the formal order confirmation)',
  'sub_processors.manage': 'add, change and remove sub-processors; read every tenant\'s objections and the announcements\' delivery',
  'sub_processors.read': 'read the sub-processor register, its announced changes and the tenant\'s own objections',
  'sub_processors.object': 'object to an announced sub-processor change within its objection period',
  'notifications.manage': 'set the webhook URL where the tenant hears of sub-processor changes',
  'tenants.close': 'close a tenant (read-only, purged after TRESOR_CLOSED_TENANT_RETENTION_MONTHS) and reopen it before its keys are destroyed',
  'deletion_certificates.read': 'read the signed deletion certificates of a tenant\'s purge',
  'retention.read': 'read a collection\'s retention policy',
  'retention.manage': 'set or remove a collection\'s retention policy',
  'tom.read': 'read the TOM register with its live evidence and generate the deployment\'s signed Art. 32 annex',
  'tom.manage': 'adapt TOM register entries (owner, review interval, wording) and record attestations',
  'tom.report': 'fetch the signed Art. 32 annex as it applies to the tenant',
  'incidents.manage': 'open, record, decide, query, draft, export and close incidents in the platform\'s register (GDPR Art. 33)',
  'incidents.read': 'read the incidents that affect the tenant: the register entry, the tenant\'s own affected records and its notification draft',
};

/** One line per role, for GET /v1/permissions and the README. */
export const roleDescriptions: Record<Role, string> = {
  operator: 'platform: runs tenants, keys and rotation; never reads tenant data',
  support: 'platform: nothing, until a tenant grants time-boxed read access (break-glass)',
  owner: 'tenant: everything in the tenant; the only tenant role that approves support access or makes owners',
  admin: 'tenant: collections, keys (up to admin), records, security events',
  editor: 'tenant: reads and writes records, sees masked fields in full',
  viewer: 'tenant: reads records with masked fields masked',
  auditor: 'tenant: reads the audit log and security events, never personal data',
};

/** What an approved support grant lets support do on the tenant: read, masked. */
export const SUPPORT_GRANT_ROLE = 'viewer' satisfies TenantRole;

export function can(role: Role | 'system', action: Action): boolean {
  return (permissions[action] as readonly string[]).includes(role);
}

const isPlatformRole = (role: Role | 'system') => (PLATFORM_ROLES as readonly string[]).includes(role);

/**
 * Another tenant's id answers 404, never 403, so a key cannot probe which
 * tenants exist. A permitted tenant but a forbidden action answers 403.
 */
export function authorizeTenant(actor: Actor, tenantId: string, action: Action): void {
  if (!isPlatformRole(actor.role) && actor.tenantId !== tenantId) throw new RequestError('tenant.not_found');
  if (!can(actor.role, action)) throw new RequestError('auth.forbidden', `Role '${actor.role}' may not perform ${action}`);
}

/**
 * A key limited to some collections reaches only those collections' routes
 * (paths naming the collection) and reading its tenant, nothing tenant-wide.
 */
export function authorizeScope(actor: Actor, collection: string | undefined, action: Action): void {
  if (actor.type !== 'api_key' || !actor.collections || action === 'tenants.read') return;
  if (collection !== undefined && actor.collections.includes(collection)) return;
  throw new RequestError('auth.out_of_scope', collection === undefined
    ? 'This key is limited to some collections and cannot act tenant-wide'
    : 'This key is not limited to this collection');
}

export function authorizePlatform(actor: Actor, action: Action): void {
  if (!can(actor.role, action)) throw new RequestError('auth.forbidden', `Role '${actor.role}' may not perform ${action}`);
}

/**
 * Who may hand out a tenant role: only roles the granter holds or ranks
 * below (an admin cannot make an owner), and operators any (they bootstrap
 * a tenant's first owner). Nobody changes their own role (callers check that).
 */
export function mayGrantRole(granter: Actor, role: TenantRole): boolean {
  if (granter.role === 'operator') return true;
  if (granter.role === 'owner') return true;
  if (granter.role === 'admin') return role !== 'owner';
  return false;
}
