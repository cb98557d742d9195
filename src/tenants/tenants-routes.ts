import { Type } from 'typebox';
import type { App } from '../http/app-types.ts';
import { access } from '../http/access.ts';
import { PageQuery, TenantParams, Timestamp, Uuid, bearer, errorResponses } from '../http/schemas.ts';
import type { TenantsService } from './tenants-service.ts';

const Tenant = Type.Object({ id: Uuid, name: Type.String(), status: Type.String(), createdAt: Timestamp });

export function tenantsRoutes(app: App, { tenants, listDefaultLimit, listMaxLimit }: { tenants: TenantsService; listDefaultLimit: number; listMaxLimit: number }) {
  app.post('/v1/tenants', {
    config: access.platform('tenants.create'),
    schema: { tags: ['tenants'], security: bearer,
      body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
      response: { 201: Tenant, ...errorResponses } },
  }, async (req, reply) => reply.code(201).send(await tenants.create(req.actor, req.body)));

  app.get('/v1/tenants', {
    config: access.platform('tenants.list'),
    schema: { tags: ['tenants'], security: bearer, querystring: PageQuery,
      response: { 200: Type.Object({ items: Type.Array(Tenant), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses } },
  }, async (req) => tenants.list(req.actor, { limit: Math.min(req.query.limit ?? listDefaultLimit, listMaxLimit), cursor: req.query.cursor }));

  app.get('/v1/tenants/:tenantId', {
    config: access.tenant('tenants.read'),
    schema: { tags: ['tenants'], security: bearer, params: TenantParams, response: { 200: Tenant, ...errorResponses } },
  }, async (req) => tenants.get(req.actor, req.params.tenantId));
}
