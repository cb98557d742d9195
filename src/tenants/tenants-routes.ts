import { Type } from 'typebox';
import type { App } from '../http/app-types.ts';
import { access } from '../http/access.ts';
import { Page, PageQuery, StringEnum, TenantParams, Timestamp, Uuid, bearer, errorResponses } from '../http/schemas.ts';
import type { TenantsService } from './tenants-service.ts';

const Tenant = Type.Object({ id: Uuid, name: Type.String(),
  status: StringEnum(['active', 'closed', 'purged'] as const, { description: 'closed: read-only until purgeAfter; purged: keys destroyed, rows deleted (a tombstone)' }),
  createdAt: Timestamp,
  closedAt: Type.Union([Timestamp, Type.Null()], { description: 'when the tenant was closed (null: active)' }),
  purgeAfter: Type.Union([Timestamp, Type.Null()], { description: 'when a closed tenant\'s keys are destroyed and its rows deleted' }),
}, { title: 'Tenant' });

export function tenantsRoutes(app: App, { tenants, listDefaultLimit, listMaxLimit }: { tenants: TenantsService; listDefaultLimit: number; listMaxLimit: number }) {
  app.post('/v1/tenants', {
    config: access.platform('tenants.create'),
    schema: { operationId: 'createTenant', summary: 'Create a tenant', tags: ['tenants'], security: bearer,
      description: 'Creates a tenant with its first data key; its admin key is made next with createApiKey.',
      body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 200, examples: ['Acme GmbH'] }) }, { additionalProperties: false }),
      response: { 201: Tenant, ...errorResponses } },
  }, async (req, reply) => reply.code(201).send(await tenants.create(req.actor, req.body)));

  app.get('/v1/tenants', {
    config: access.platform('tenants.list'),
    schema: { operationId: 'listTenants', summary: 'List tenants', tags: ['tenants'], security: bearer, querystring: PageQuery,
      description: 'Tenants a page at a time; pass `nextCursor` back as `cursor`.',
      response: { 200: Page(Tenant, 'TenantPage'), ...errorResponses } },
  }, async (req) => tenants.list(req.actor, { limit: Math.min(req.query.limit ?? listDefaultLimit, listMaxLimit), cursor: req.query.cursor }));

  app.get('/v1/tenants/:tenantId', {
    config: access.tenant('tenants.read'),
    schema: { operationId: 'getTenant', summary: 'Read a tenant', tags: ['tenants'], security: bearer, params: TenantParams,
      description: 'A tenant key reads only its own tenant; another id answers 404 as if it did not exist.', response: { 200: Tenant, ...errorResponses } },
  }, async (req) => tenants.get(req.actor, req.params.tenantId));
}
