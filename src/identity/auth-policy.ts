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
