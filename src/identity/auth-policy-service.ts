import type { Db, TenantTx } from '../db/db.ts';
import { type Actor, authorizeTenant } from '../access/permissions.ts';
import type { SecurityEventsSeam } from './identity-scope.ts';
import type { Client } from './sessions-service.ts';
import { type PlatformAuthPolicy, type PolicyOverrides, authPolicyFor, effectiveView, readOverrides, writeOverrides } from './auth-policy.ts';

export interface AuthPolicyDeps { db: Db; now: () => Date; platformPolicy: PlatformAuthPolicy; securityEvents: SecurityEventsSeam }

/**
 * A tenant's own password and session rules. They can only make the
 * platform's stricter (authPolicyFor takes the stricter of both), so a tenant
 * cannot weaken what the operator promised; new sessions and password changes
 * follow them, sessions already open keep the limits they were made with.
 */
export function authPolicyServiceFactory({ db, now, platformPolicy, securityEvents }: AuthPolicyDeps) {
  const view = async (tx: TenantTx) => ({
    overrides: await readOverrides(tx, tx.tenantId),
    effective: effectiveView(await authPolicyFor(tx, tx.tenantId, platformPolicy)),
  });
  return {
    get(actor: Actor, tenantId: string) {
      authorizeTenant(actor, tenantId, 'auth_policy.read');
      return db.withTenant(tenantId, view);
    },
    set(actor: Actor, tenantId: string, input: Partial<PolicyOverrides>, client: Client) {
      authorizeTenant(actor, tenantId, 'auth_policy.manage');
      return db.withTenant(tenantId, async (tx) => {
        const overrides = await writeOverrides(tx, tenantId, input, now());
        await securityEvents.record(tx, { type: 'auth_policy.changed', actor, ...client, detail: { ...overrides } });
        return view(tx);
      });
    },
  };
}

export type AuthPolicyService = ReturnType<typeof authPolicyServiceFactory>;
