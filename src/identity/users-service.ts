import { v7 as uuidv7 } from 'uuid';
import { type Db, type Tx, type TenantTx, isForeignKeyViolation, isUniqueViolation } from '../db/db.ts';
import { RequestError, assertThat } from '../errors.ts';
import { type Actor, type Role, authorizePlatform, authorizeTenant } from '../access/permissions.ts';
import { newToken } from './one-time-token.ts';
import { usersRepo, type UserRow, type UserStatus } from './users-repo.ts';
import { tokensRepo } from './tokens-repo.ts';
import type { SessionsService } from './sessions-service.ts';
import type { Client } from './sessions-service.ts';
import { type SecurityEventsSeam, auditUser, inScope, normaliseEmail, recordEvent } from './identity-scope.ts';

export const USER_TENANT_ROLES = ['owner', 'admin', 'editor', 'viewer', 'auditor'] as const;
export const USER_PLATFORM_ROLES = ['operator', 'support'] as const;

export interface UsersDeps {
  db: Db; now: () => Date; invitationTtlMs: number; passwordResetTtlMs: number;
  sessions: Pick<SessionsService, 'revokeForUser'>; securityEvents: SecurityEventsSeam;
}

export function publicUser(u: UserRow) {
  return { id: u.id, tenantId: u.tenantId, email: u.email, name: u.name, role: u.role, status: u.status,
    mfaEnrolled: u.mfaEnrolledAt !== null, createdAt: u.createdAt.toISOString(), updatedAt: u.updatedAt.toISOString() };
}

// Rank among tenant roles: nobody grants or changes a role above their own.
const rank = (role: Role) => {
  const i = (USER_TENANT_ROLES as readonly string[]).indexOf(role);
  return i < 0 ? USER_TENANT_ROLES.length : i;
};
const outranked = (actor: Actor, role: Role) => actor.role !== 'operator' && rank(role) < rank(actor.role as Role);
const notGrantable = (detail: string) => () => new RequestError('user.role_not_grantable', detail);

interface Scoped { tenantId: string | null }

/** Users of a tenant (or of the platform, tenantId null): invitation, listing, role and status changes, 2FA reset. */
export function usersServiceFactory({ db, now, invitationTtlMs, passwordResetTtlMs, sessions, securityEvents }: UsersDeps) {
  function authorize(actor: Actor, tenantId: string | null, action: 'users.invite' | 'users.manage' | 'users.reset_mfa') {
    if (tenantId) authorizeTenant(actor, tenantId, action);
    else authorizePlatform(actor, 'platform_users.manage');
  }

  async function issueToken(tx: Tx, kind: 'invitation' | 'password_reset', user: UserRow, ttlMs: number) {
    const t = newToken(kind === 'invitation' ? 'tinv' : 'trst');
    const at = now();
    const expiresAt = new Date(at.getTime() + ttlMs);
    await tokensRepo.revokeForUser(tx, user.id, [kind], at);
    await tokensRepo.insert(tx, { hash: t.hash, kind, tenantId: user.tenantId, userId: user.id, expiresAt, now: at });
    return { token: t.token, expiresAt: expiresAt.toISOString() };
  }

  function assertGrantable(actor: Actor, tenantId: string | null, role: Role) {
    const allowed: readonly string[] = tenantId ? USER_TENANT_ROLES : USER_PLATFORM_ROLES;
    assertThat(allowed.includes(role), notGrantable(`Users here take one of the roles ${allowed.join(', ')}`));
    assertThat(!tenantId || !outranked(actor, role), notGrantable(`Role '${actor.role}' may not grant '${role}'`));
  }

  async function assertMayInvite(tx: Tx, actor: Actor, tenantId: string | null, role: Role) {
    assertGrantable(actor, tenantId, role);
    if (!tenantId || actor.role !== 'operator') return;
    // The operator bootstraps a tenant's first owner; after that the tenant manages its own people.
    assertThat(role === 'owner', notGrantable('An operator invites only a tenant\'s first owner'));
    assertThat((await usersRepo.lockActiveOwners(tx, tenantId)).length === 0, notGrantable('The tenant has an owner already'));
  }

  /** The user, locked, that the actor may manage (not one ranking above it). */
  async function managed(tx: Tx, actor: Actor, s: Scoped & { userId: string }) {
    const user = await usersRepo.get(tx, s.tenantId, s.userId, true);
    assertThat(user, () => new RequestError('user.not_found'));
    assertThat(!outranked(actor, user.role), notGrantable(`Role '${actor.role}' may not change a user with role '${user.role}'`));
    return user;
  }

  async function keepAnOwner(tx: Tx, user: UserRow, change: { role?: Role; status?: UserStatus }) {
    if (!user.tenantId || user.role !== 'owner' || user.status === 'deactivated') return;
    if ((change.role ?? 'owner') === 'owner' && change.status !== 'deactivated') return;
    const owners = (await usersRepo.lockActiveOwners(tx, user.tenantId)).filter((o) => o.id !== user.id);
    assertThat(owners.length > 0, () => new RequestError('user.last_owner'));
  }

  async function recordChanges(tx: Tx, ttx: TenantTx | null, actor: Actor, before: UserRow, after: UserRow, client: Client) {
    const base = { actor, ...client };
    if (before.role !== after.role) {
      await recordEvent(securityEvents, tx, ttx, { ...base, type: 'role.changed', detail: { userId: after.id, from: before.role, to: after.role } });
    }
    if (before.status !== after.status && after.status === 'deactivated') {
      await recordEvent(securityEvents, tx, ttx, { ...base, type: 'user.deactivated', detail: { userId: after.id } });
    }
    if (before.status === 'deactivated' && after.status === 'active') {
      await recordEvent(securityEvents, tx, ttx, { ...base, type: 'user.reactivated', detail: { userId: after.id } });
    }
  }

  const inner = {
    async invite(tx: Tx, actor: Actor, input: Scoped & { email: string; name?: string; role: Role }) {
      authorize(actor, input.tenantId, 'users.invite');
      await assertMayInvite(tx, actor, input.tenantId, input.role);
      const user = await usersRepo.insert(tx, { id: uuidv7(), tenantId: input.tenantId, email: input.email.trim(),
        emailNorm: normaliseEmail(input.email), name: input.name?.trim() || null, role: input.role, now: now() });
      auditUser(tx, 'user.invite', actor, user, { role: user.role });
      return { ...publicUser(user), invitation: await issueToken(tx, 'invitation', user, invitationTtlMs) };
    },

    async list(tx: Tx, actor: Actor, input: Scoped) {
      authorize(actor, input.tenantId, 'users.manage');
      return (await usersRepo.list(tx, input.tenantId)).map(publicUser);
    },

    /** A role change or deactivation ends the user's sessions at once (a new login gets a new token). */
    async update(tx: Tx, ttx: TenantTx | null, actor: Actor, input: Scoped & { userId: string; role?: Role; status?: 'active' | 'deactivated' }, client: Client) {
      authorize(actor, input.tenantId, 'users.manage');
      const user = await managed(tx, actor, input);
      if (input.role) assertGrantable(actor, input.tenantId, input.role);
      // An invited user stays invited until it accepts; reactivation makes it active only once it has a password.
      const status = input.status === 'active' && user.status === 'deactivated' && !user.passwordHash ? 'invited' : input.status;
      await keepAnOwner(tx, user, { role: input.role, status });
      const updated = await usersRepo.update(tx, input.tenantId, user.id, { role: input.role, status }, now());
      if (updated.role !== user.role || (updated.status === 'deactivated' && user.status !== 'deactivated')) {
        await sessions.revokeForUser(tx, user.id);
        if (updated.status === 'deactivated') await tokensRepo.revokeForUser(tx, user.id, ['invitation', 'enrollment', 'mfa', 'password_reset'], now());
      }
      await recordChanges(tx, ttx, actor, user, updated, client);
      auditUser(tx, 'user.update', actor, user, { role: updated.role, status: updated.status });
      return publicUser(updated);
    },

    /** A lost authenticator: the user enrols again at the next login; its sessions end. */
    async resetMfa(tx: Tx, ttx: TenantTx | null, actor: Actor, input: Scoped & { userId: string }, client: Client) {
      authorize(actor, input.tenantId, 'users.reset_mfa');
      const user = await managed(tx, actor, input);
      await usersRepo.resetMfa(tx, user.id, now());
      await sessions.revokeForUser(tx, user.id);
      await tokensRepo.revokeForUser(tx, user.id, ['enrollment', 'mfa'], now());
      await recordEvent(securityEvents, tx, ttx, { actor, ...client, type: 'mfa.reset', detail: { userId: user.id } });
      auditUser(tx, 'user.mfa_reset', actor, user);
      return publicUser((await usersRepo.get(tx, input.tenantId, user.id))!);
    },

    /** A single-use reset token (TRESOR_PASSWORD_RESET_TTL_MINUTES), handed to the user out of band. */
    async issuePasswordReset(tx: Tx, actor: Actor, input: Scoped & { userId: string }) {
      authorize(actor, input.tenantId, 'users.manage');
      const user = await managed(tx, actor, input);
      assertThat(user.status === 'active', () => new RequestError('user.not_found', 'Only an active user can reset a password'));
      auditUser(tx, 'user.password_reset_issue', actor, user);
      return issueToken(tx, 'password_reset', user, passwordResetTtlMs);
    },
  };

  const translate = (err: unknown): never => {
    if (isUniqueViolation(err)) throw new RequestError('user.email_taken');
    if (isForeignKeyViolation(err)) throw new RequestError('tenant.not_found');
    throw err;
  };

  return {
    inner,
    invite: (actor: Actor, input: Scoped & { email: string; name?: string; role: Role }) =>
      inScope(db, input.tenantId, (tx) => inner.invite(tx, actor, input)).catch(translate),
    list: (actor: Actor, input: Scoped) => inScope(db, input.tenantId, (tx) => inner.list(tx, actor, input)),
    update: (actor: Actor, input: Scoped & { userId: string; role?: Role; status?: 'active' | 'deactivated' }, client: Client) =>
      inScope(db, input.tenantId, (tx, ttx) => inner.update(tx, ttx, actor, input, client)),
    resetMfa: (actor: Actor, input: Scoped & { userId: string }, client: Client) =>
      inScope(db, input.tenantId, (tx, ttx) => inner.resetMfa(tx, ttx, actor, input, client)),
    issuePasswordReset: (actor: Actor, input: Scoped & { userId: string }) =>
      inScope(db, input.tenantId, (tx) => inner.issuePasswordReset(tx, actor, input)),
  };
}

export type UsersService = ReturnType<typeof usersServiceFactory>;
