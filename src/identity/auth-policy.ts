import type { Tx } from '../db/db.ts';
import type { PasswordPolicy } from './password-policy.ts';

/** The platform's defaults and bounds (config). */
export interface PlatformAuthPolicy { password: PasswordPolicy; sessionIdleMinutes: number; sessionAbsoluteMinutes: number }

export interface AuthPolicy { password: PasswordPolicy; sessionIdleMs: number; sessionAbsoluteMs: number }

interface TenantOverrides {
  passwordMinLength: number | null; passwordComposition: boolean | null; passwordMaxAgeDays: number | null;
  passwordHistory: number | null; sessionIdleMinutes: number | null; sessionAbsoluteMinutes: number | null;
}

const read = async (tx: Tx, tenantId: string) => (await tx.query<TenantOverrides>(
  `select password_min_length as "passwordMinLength", password_composition as "passwordComposition", password_max_age_days as "passwordMaxAgeDays",
     password_history as "passwordHistory", session_idle_minutes as "sessionIdleMinutes", session_absolute_minutes as "sessionAbsoluteMinutes"
   from tenant_auth_policy where tenant_id = $1`, [tenantId]))[0];

const MINUTE = 60_000;

/**
 * The policy in force for a tenant's users (or platform users, tenantId
 * null): a tenant may only make the platform's rules stricter (longer
 * passwords, composition, history, a maximum age; shorter sessions).
 */
export async function authPolicyFor(tx: Tx, tenantId: string | null, platform: PlatformAuthPolicy): Promise<AuthPolicy> {
  const t = tenantId ? await read(tx, tenantId) : undefined;
  const p = platform.password;
  const stricterAge = (a: number, b: number | null | undefined) => (!b ? a : !a ? b : Math.min(a, b));
  return {
    password: {
      minLength: Math.max(p.minLength, t?.passwordMinLength ?? 0),
      maxLength: p.maxLength,
      composition: p.composition || (t?.passwordComposition ?? false),
      maxAgeDays: stricterAge(p.maxAgeDays, t?.passwordMaxAgeDays),
      history: Math.max(p.history, t?.passwordHistory ?? 0),
    },
    sessionIdleMs: Math.min(platform.sessionIdleMinutes, t?.sessionIdleMinutes ?? Infinity) * MINUTE,
    sessionAbsoluteMs: Math.min(platform.sessionAbsoluteMinutes, t?.sessionAbsoluteMinutes ?? Infinity) * MINUTE,
  };
}

export type PolicyOverrides = TenantOverrides;

const NO_OVERRIDES: TenantOverrides = { passwordMinLength: null, passwordComposition: null, passwordMaxAgeDays: null,
  passwordHistory: null, sessionIdleMinutes: null, sessionAbsoluteMinutes: null };

export const readOverrides = async (tx: Tx, tenantId: string): Promise<TenantOverrides> => ({ ...NO_OVERRIDES, ...(await read(tx, tenantId)) });

/** Replaces the tenant's overrides (a field left out falls back to the platform's setting). */
export async function writeOverrides(tx: Tx, tenantId: string, input: Partial<TenantOverrides>, at: Date): Promise<TenantOverrides> {
  const o = { ...NO_OVERRIDES, ...input };
  await tx.query(`insert into tenant_auth_policy (tenant_id, password_min_length, password_composition, password_max_age_days, password_history,
      session_idle_minutes, session_absolute_minutes, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8)
    on conflict (tenant_id) do update set password_min_length = $2, password_composition = $3, password_max_age_days = $4,
      password_history = $5, session_idle_minutes = $6, session_absolute_minutes = $7, updated_at = $8`,
  [tenantId, o.passwordMinLength, o.passwordComposition, o.passwordMaxAgeDays, o.passwordHistory, o.sessionIdleMinutes, o.sessionAbsoluteMinutes, at]);
  return o;
}

/** What applies to the tenant's users, in the API's units. */
export const effectiveView = (p: AuthPolicy) => ({
  passwordMinLength: p.password.minLength, passwordMaxLength: p.password.maxLength, passwordComposition: p.password.composition,
  passwordMaxAgeDays: p.password.maxAgeDays, passwordHistory: p.password.history,
  sessionIdleMinutes: p.sessionIdleMs / MINUTE, sessionAbsoluteMinutes: p.sessionAbsoluteMs / MINUTE,
});
