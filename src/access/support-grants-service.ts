import { v7 as uuidv7 } from 'uuid';
import { type Db, type TenantTx, enterTenant, isForeignKeyViolation } from '../db/db.ts';
import { RequestError, assertThat } from '../errors.ts';
import { type Actor, SUPPORT_GRANT_ROLE, authorizeTenant } from './permissions.ts';
import type { RequestMeta, SecurityEventsService } from '../security-events/security-events-service.ts';
import { type SupportGrantRow, supportGrantsRepo } from './support-grants-repo.ts';

// Break-glass support access: support asks one tenant for read access with a
// reason and a duration; the tenant's owner approves (or the tenant has
// pre-authorised support); the grant ends by itself at expiresAt. Each step
// is a security event on the tenant, so its owner sees every look inside.

export interface SupportGrantsDeps {
  db: Db; securityEvents: Pick<SecurityEventsService, 'record'>; now?: () => Date; maxMinutes: number; listMax: number;
  /** Hears of support acting on a tenant without an approved, unexpired grant (the incident rule); must not throw or wait. */
  onUnapproved?: (actor: Actor, tenantId: string, use: { action: string; method: string; route: string | null }) => void;
}

export function supportGrantsServiceFactory({ db, securityEvents, now = () => new Date(), maxMinutes, listMax, onUnapproved }: SupportGrantsDeps) {
  const publicGrant = (g: SupportGrantRow) => ({
    id: g.id, requester: { type: g.requesterType, id: g.requesterId }, reason: g.reason, minutes: g.minutes,
    status: g.status === 'pending' ? 'pending' as const : g.expiresAt! > now() ? 'active' as const : 'expired' as const,
    requestedAt: g.requestedAt.toISOString(), approvedBy: g.approvedBy,
    approvedAt: g.approvedAt?.toISOString() ?? null, expiresAt: g.expiresAt?.toISOString() ?? null,
  });

  async function approve(tx: TenantTx, actor: Actor, grantId: string, meta: RequestMeta, preauthorized: boolean) {
    const g = await supportGrantsRepo.approve(tx, grantId, actor.id, now());
    assertThat(g, () => new RequestError('support_grant.not_pending'));
    await securityEvents.record(tx, { type: 'support_grant.approved', actor, ...meta,
      detail: { grantId, requesterId: g.requesterId, expiresAt: g.expiresAt!.toISOString(), preauthorized } });
    return g;
  }

  const inner = {
    async request(tx: TenantTx, actor: Actor, input: { reason: string; minutes: number }, meta: RequestMeta = {}) {
      authorizeTenant(actor, tx.tenantId, 'support_grants.request');
      assertThat(input.minutes >= 1 && input.minutes <= maxMinutes,
        () => new RequestError('request.validation_failed', `minutes must be between 1 and ${maxMinutes}`));
      const g = await supportGrantsRepo.insert(tx, { id: uuidv7(), requesterType: actor.type, requesterId: actor.id,
        reason: input.reason, minutes: input.minutes, requestedAt: now() });
      await securityEvents.record(tx, { type: 'support_grant.requested', actor, ...meta, detail: { grantId: g.id, minutes: g.minutes } });
      // Pre-authorisation approves at once, still as its own recorded step.
      if (await supportGrantsRepo.isPreauthorized(tx, tx.tenantId)) return publicGrant(await approve(tx, actor, g.id, meta, true));
      return publicGrant(g);
    },

    async approve(tx: TenantTx, actor: Actor, input: { grantId: string }, meta: RequestMeta = {}) {
      authorizeTenant(actor, tx.tenantId, 'support_grants.approve');
      assertThat(await supportGrantsRepo.find(tx, input.grantId), () => new RequestError('support_grant.not_found'));
      return publicGrant(await approve(tx, actor, input.grantId, meta, false));
    },

    async list(tx: TenantTx, actor: Actor) {
      authorizeTenant(actor, tx.tenantId, 'support_grants.read');
      return (await supportGrantsRepo.list(tx, listMax)).map(publicGrant);
    },
  };

  // A support grant's tenant may not exist: its foreign key answers 404 like any unknown tenant.
  const inTenant = async <T>(tenantId: string, fn: (tx: TenantTx) => Promise<T>) => {
    try {
      return await db.withTenant(tenantId, fn);
    } catch (err) {
      if (isForeignKeyViolation(err)) throw new RequestError('tenant.not_found');
      throw err;
    }
  };

  return {
    inner,
    request: (actor: Actor, tenantId: string, input: { reason: string; minutes: number }, meta?: RequestMeta) =>
      inTenant(tenantId, (tx) => inner.request(tx, actor, input, meta)),
    approve: (actor: Actor, tenantId: string, grantId: string, meta?: RequestMeta) =>
      db.withTenant(tenantId, (tx) => inner.approve(tx, actor, { grantId }, meta)),
    list: (actor: Actor, tenantId: string) => db.withTenant(tenantId, (tx) => inner.list(tx, actor)),

    async setPreauthorized(actor: Actor, tenantId: string, preauthorized: boolean, meta: RequestMeta = {}) {
      authorizeTenant(actor, tenantId, 'support_settings.manage');
      return db.transaction(async (tx) => {
        assertThat(await supportGrantsRepo.setPreauthorized(tx, tenantId, preauthorized), () => new RequestError('tenant.not_found'));
        await securityEvents.record(await enterTenant(tx, tenantId), { type: 'support_settings.changed', actor, ...meta, detail: { preauthorized } });
        return { preauthorized };
      });
    },

    /**
     * The actor support acts as on this tenant: SUPPORT_GRANT_ROLE while a
     * grant is approved and unexpired (each use recorded), else unchanged (and
     * then refused by the matrix, 403).
     */
    async actAs(actor: Actor, tenantId: string, use: { action: string; method: string; route: string | null } & RequestMeta): Promise<Actor> {
      if (actor.type === 'system' || actor.role !== 'support') return actor;
      return db.withTenant(tenantId, async (tx) => {
        const g = await supportGrantsRepo.findActive(tx, actor.id, now());
        if (!g) {
          onUnapproved?.(actor, tenantId, { action: use.action, method: use.method, route: use.route });
          return actor;
        }
        const { ip, userAgent, ...detail } = use;
        await securityEvents.record(tx, { type: 'support_grant.used', actor, ip, userAgent, detail: { grantId: g.id, ...detail } });
        return { ...actor, role: SUPPORT_GRANT_ROLE, tenantId, grantId: g.id };
      });
    },
  };
}

export type SupportGrantsService = ReturnType<typeof supportGrantsServiceFactory>;
