import type { Queries } from '../db/db.ts';
import type { Role } from '../access/permissions.ts';

export type UserStatus = 'invited' | 'active' | 'deactivated';

export interface UserRow {
  id: string; tenantId: string | null; email: string; emailNorm: string; name: string | null; role: Role; status: UserStatus;
  passwordHash: string | null; passwordChangedAt: Date | null; passwordHistory: string[];
  totpSecret: Uint8Array | null; totpKeyVersion: number | null; totpLastStep: number | null; mfaEnrolledAt: Date | null;
  createdAt: Date; updatedAt: Date;
}

const columns = `id, tenant_id as "tenantId", email, email_norm as "emailNorm", name, role, status,
  password_hash as "passwordHash", password_changed_at as "passwordChangedAt", password_history as "passwordHistory",
  totp_secret as "totpSecret", totp_key_version as "totpKeyVersion", totp_last_step::float8 as "totpLastStep",
  mfa_enrolled_at as "mfaEnrolledAt", created_at as "createdAt", updated_at as "updatedAt"`;

// Users of a tenant are read in its tenant transaction (RLS) and platform
// users in platform context; every statement also names the tenant (or
// `tenant_id is null`), as platform transactions are not under the RLS role.
const scope = (n: number) => `tenant_id is not distinct from $${n}::uuid`;

export const usersRepo = {
  insert: async (tx: Queries, u: { id: string; tenantId: string | null; email: string; emailNorm: string; name: string | null; role: Role; now: Date }) =>
    (await tx.query<UserRow>(
      `insert into users (id, tenant_id, email, email_norm, name, role, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $7) returning ${columns}`,
      [u.id, u.tenantId, u.email, u.emailNorm, u.name, u.role, u.now],
    ))[0],
  get: async (tx: Queries, tenantId: string | null, id: string, lock = false) =>
    (await tx.query<UserRow>(`select ${columns} from users where id = $1 and ${scope(2)}${lock ? ' for update' : ''}`, [id, tenantId]))[0],
  byEmail: async (tx: Queries, tenantId: string | null, emailNorm: string) =>
    (await tx.query<UserRow>(`select ${columns} from users where email_norm = $1 and ${scope(2)}`, [emailNorm, tenantId]))[0],
  list: (tx: Queries, tenantId: string | null) =>
    tx.query<UserRow>(`select ${columns} from users where ${scope(1)} order by created_at, id`, [tenantId]),
  /** Active owners, locked: two demotions cannot each leave the other as the last. */
  lockActiveOwners: (tx: Queries, tenantId: string) =>
    tx.query<{ id: string }>("select id from users where tenant_id = $1 and role = 'owner' and status = 'active' for update", [tenantId]),
  update: async (tx: Queries, tenantId: string | null, id: string, set: { role?: Role; status?: UserStatus }, now: Date) =>
    (await tx.query<UserRow>(
      `update users set role = coalesce($3, role), status = coalesce($4, status), updated_at = $5 where id = $1 and ${scope(2)} returning ${columns}`,
      [id, tenantId, set.role ?? null, set.status ?? null, now],
    ))[0],
  /** `changedAt` null: a re-hash of the same password (new parameters), its age unchanged. */
  setPassword: (tx: Queries, id: string, p: { hash: string; history: string[]; changedAt: Date | null; activate: boolean }) =>
    tx.query(
      `update users set password_hash = $2, password_history = $3::text::jsonb, password_changed_at = coalesce($4, password_changed_at),
        status = case when $5 and status = 'invited' then 'active' else status end, updated_at = coalesce($4, updated_at) where id = $1`,
      [id, p.hash, JSON.stringify(p.history), p.changedAt, p.activate],
    ),
  setPendingTotp: (tx: Queries, id: string, secret: Buffer, keyVersion: number | null) =>
    tx.query('update users set totp_secret = $2, totp_key_version = $3, totp_last_step = null where id = $1 and mfa_enrolled_at is null', [id, secret, keyVersion]),
  confirmTotp: (tx: Queries, id: string, step: number, recoveryHashes: string[], now: Date) =>
    tx.query('update users set mfa_enrolled_at = $3, totp_last_step = $2, recovery_codes = $4::text::jsonb where id = $1', [id, step, now, JSON.stringify(recoveryHashes)]),
  /** Records `step` as used unless it (or a later one) already was: a code works once, even under concurrent logins. */
  useTotpStep: async (tx: Queries, id: string, step: number) =>
    (await tx.query('update users set totp_last_step = $2 where id = $1 and (totp_last_step is null or totp_last_step < $2) returning id', [id, step])).length > 0,
  /** Removes one unused recovery code; false when it is not (or no longer) there. */
  useRecoveryCode: async (tx: Queries, id: string, codeHash: string) =>
    (await tx.query('update users set recovery_codes = recovery_codes - $2::text where id = $1 and jsonb_exists(recovery_codes, $2::text) returning id', [id, codeHash])).length > 0,
  resetMfa: (tx: Queries, id: string, now: Date) =>
    tx.query("update users set totp_secret = null, totp_key_version = null, totp_last_step = null, mfa_enrolled_at = null, recovery_codes = '[]', updated_at = $2 where id = $1", [id, now]),
};
