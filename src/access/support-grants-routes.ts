import { Type } from 'typebox';
import type { App } from '../http/app-types.ts';
import { access } from '../http/access.ts';
import { requestMeta } from '../http/request-meta.ts';
import { StringEnum, TenantParams, Timestamp, Uuid, bearer, errorResponses } from '../http/schemas.ts';
import type { SupportGrantsService } from './support-grants-service.ts';

const SupportGrant = Type.Object({
  id: Uuid,
  requester: Type.Object({ type: Type.String(), id: Type.String() }),
  reason: Type.String(),
  minutes: Type.Integer(),
  status: StringEnum(['pending', 'active', 'expired'] as const),
  requestedAt: Timestamp,
  approvedBy: Type.Union([Type.String(), Type.Null()]),
  approvedAt: Type.Union([Timestamp, Type.Null()]),
  expiresAt: Type.Union([Timestamp, Type.Null()], { description: 'Access ends at this time by itself' }),
}, { title: 'SupportGrant' });

const grants = '/v1/tenants/:tenantId/support-grants';

export function supportGrantsRoutes(app: App, { supportGrants, maxMinutes }: { supportGrants: SupportGrantsService; maxMinutes: number }) {
  app.post(grants, {
    config: access.tenant('support_grants.request'),
    schema: { operationId: 'createSupportGrant', summary: 'Ask a tenant for break-glass support access', tags: ['security'], security: bearer,
      params: TenantParams,
      description: 'Support asks for read access to one tenant, with a reason and a duration. Once the tenant\'s owner approves it '
        + '(or at once, when the tenant pre-authorised support), support reads the tenant as a viewer (masked fields masked) until '
        + 'the grant expires. Every step, and every use, is a security event on the tenant.',
      body: Type.Object({
        reason: Type.String({ minLength: 1, maxLength: 500, examples: ['ticket 4711: customer cannot see their records'] }),
        minutes: Type.Integer({ minimum: 1, maximum: maxMinutes, description: 'At most TRESOR_SUPPORT_GRANT_MAX_MINUTES (4 hours by default)' }),
      }, { additionalProperties: false }),
      response: { 201: SupportGrant, ...errorResponses } },
  }, async (req, reply) => reply.code(201).send(await supportGrants.request(req.actor, req.params.tenantId, req.body, requestMeta(req))));

  app.get(grants, {
    config: access.tenant('support_grants.read'),
    schema: { operationId: 'listSupportGrants', summary: "List a tenant's support grants", tags: ['security'], security: bearer,
      params: TenantParams, description: 'Pending, active and expired grants, newest first.',
      response: { 200: Type.Object({ items: Type.Array(SupportGrant) }), ...errorResponses } },
  }, async (req) => ({ items: await supportGrants.list(req.actor, req.params.tenantId) }));

  app.post(`${grants}/:grantId/approve`, {
    config: { ...access.tenant('support_grants.approve'), problems: ['support_grant.not_found', 'support_grant.not_pending'] },
    schema: { operationId: 'approveSupportGrant', summary: 'Approve a support grant', tags: ['security'], security: bearer,
      params: Type.Object({ tenantId: Uuid, grantId: Uuid }),
      description: 'The tenant\'s owner lets support in; the grant\'s minutes start now.',
      response: { 200: SupportGrant, ...errorResponses } },
  }, async (req) => supportGrants.approve(req.actor, req.params.tenantId, req.params.grantId, requestMeta(req)));

  app.put('/v1/tenants/:tenantId/support-settings', {
    config: access.tenant('support_settings.manage'),
    schema: { operationId: 'setSupportSettings', summary: 'Pre-authorise support access', tags: ['security'], security: bearer,
      params: TenantParams,
      description: 'With `preauthorized: true` a support request is approved at once (still recorded); the default is false.',
      body: Type.Object({ preauthorized: Type.Boolean() }, { additionalProperties: false }),
      response: { 200: Type.Object({ preauthorized: Type.Boolean() }), ...errorResponses } },
  }, async (req) => supportGrants.setPreauthorized(req.actor, req.params.tenantId, req.body.preauthorized, requestMeta(req)));
}
