import { Type } from 'typebox';
import type { App } from '../http/app-types.ts';
import { access } from '../http/access.ts';
import { TenantParams, Timestamp, Uuid, bearer, errorResponses } from '../http/schemas.ts';
import type { ApiKeysService } from './api-keys-service.ts';

const KeyInfo = {
  id: Uuid, name: Type.String(), role: Type.String(), prefix: Type.String(), createdAt: Timestamp,
  lastUsedAt: Type.Union([Timestamp, Type.Null()]), revokedAt: Type.Union([Timestamp, Type.Null()]),
};

export function apiKeysRoutes(app: App, { apiKeys }: { apiKeys: ApiKeysService }) {
  app.post('/v1/tenants/:tenantId/api-keys', {
    config: access.tenant('api_keys.manage'),
    schema: { tags: ['api-keys'], security: bearer, params: TenantParams,
      body: Type.Object({
        name: Type.String({ minLength: 1, maxLength: 200 }),
        role: Type.Union([Type.Literal('admin'), Type.Literal('editor'), Type.Literal('viewer')]),
      }, { additionalProperties: false }),
      response: { 201: Type.Object({ ...KeyInfo, key: Type.String({ description: 'Shown once; only its hash is stored' }) }), ...errorResponses } },
  }, async (req, reply) => reply.code(201).send(await apiKeys.createTenantKey(req.actor, req.params.tenantId, req.body)));

  app.get('/v1/tenants/:tenantId/api-keys', {
    config: access.tenant('api_keys.manage'),
    schema: { tags: ['api-keys'], security: bearer, params: TenantParams,
      response: { 200: Type.Object({ items: Type.Array(Type.Object(KeyInfo)) }), ...errorResponses } },
  }, async (req) => ({ items: await apiKeys.list(req.actor, req.params.tenantId) }));

  app.delete('/v1/tenants/:tenantId/api-keys/:keyId', {
    config: access.tenant('api_keys.manage'),
    schema: { tags: ['api-keys'], security: bearer, params: Type.Object({ tenantId: Uuid, keyId: Uuid }),
      response: { 204: Type.Null(), ...errorResponses } },
  }, async (req, reply) => {
    await apiKeys.revoke(req.actor, req.params.tenantId, req.params.keyId);
    return reply.code(204).send(null);
  });

  app.post('/v1/operator-keys', {
    config: access.platform('operator_keys.manage'),
    schema: { tags: ['api-keys'], security: bearer,
      body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
      response: { 201: Type.Object({ ...KeyInfo, key: Type.String() }), ...errorResponses } },
  }, async (req, reply) => reply.code(201).send(await apiKeys.createOperatorKeyAs(req.actor, req.body.name)));

  app.get('/v1/operator-keys', {
    config: access.platform('operator_keys.manage'),
    schema: { tags: ['api-keys'], security: bearer, response: { 200: Type.Object({ items: Type.Array(Type.Object(KeyInfo)) }), ...errorResponses } },
  }, async (req) => ({ items: await apiKeys.listOperatorKeys(req.actor) }));

  app.delete('/v1/operator-keys/:keyId', {
    config: access.platform('operator_keys.manage'),
    schema: { tags: ['api-keys'], security: bearer, params: Type.Object({ keyId: Uuid }), response: { 204: Type.Null(), ...errorResponses } },
  }, async (req, reply) => {
    await apiKeys.revokeOperatorKey(req.actor, req.params.keyId);
    return reply.code(204).send(null);
  });
}
