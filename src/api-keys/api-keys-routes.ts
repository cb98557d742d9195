import { Type } from 'typebox';
import type { App } from '../http/app-types.ts';
import { access } from '../http/access.ts';
import { Name, StringEnum, TenantParams, Timestamp, Uuid, bearer, errorResponses } from '../http/schemas.ts';
import { PLATFORM_ROLES, TENANT_ROLES } from '../access/permissions.ts';
import { requestMeta } from '../http/request-meta.ts';
import type { ApiKeysService } from './api-keys-service.ts';

const KeyInfo = {
  id: Uuid, name: Type.String(), role: Type.String(), prefix: Type.String(), createdAt: Timestamp,
  lastUsedAt: Type.Union([Timestamp, Type.Null()]), revokedAt: Type.Union([Timestamp, Type.Null()]),
  collections: Type.Union([Type.Array(Type.String()), Type.Null()], { description: 'The collections the key is limited to; null: all' }),
  expiresAt: Type.Union([Timestamp, Type.Null()], { description: 'After this the key is refused (401); null: never' }),
  purposes: Type.Union([Type.Array(Type.String()), Type.Null()], { description: 'The purposes (of the tenant\'s instruction) the key acts for; null: whatever its collection serves' }),
};
const ApiKey = Type.Object(KeyInfo, { title: 'ApiKey' });
const NewApiKey = Type.Object({ ...KeyInfo, key: Type.String({ description: 'Shown once; only its hash is stored' }) }, { title: 'NewApiKey' });

export function apiKeysRoutes(app: App, { apiKeys }: { apiKeys: ApiKeysService }) {
  app.post('/v1/tenants/:tenantId/api-keys', {
    config: { ...access.tenant('api_keys.manage'), problems: ['api_key.invalid_role', 'auth.role_not_grantable', 'api_key.invalid_expiry'] },
    schema: { operationId: 'createApiKey', summary: 'Create an API key for a tenant', tags: ['api-keys'], security: bearer, params: TenantParams,
      description: 'The answer holds the key itself, shown this once; only its hash is stored. Roles are handed out at or below '
        + "the giver's own (an admin cannot make an owner key). A key made by an operator is recorded as an `operator.key_minted` "
        + 'security event on the tenant. A key limited to `collections` reaches only those collections\' routes and reading its tenant.',
      body: Type.Object({
        name: Type.String({ minLength: 1, maxLength: 200, examples: ['billing service'] }),
        role: StringEnum(TENANT_ROLES),
        collections: Type.Optional(Type.Array(Name, { minItems: 1, maxItems: 100, uniqueItems: true, description: 'Limit the key to these collections' })),
        expiresAt: Type.Optional(Type.String({ format: 'date-time', description: 'Refuse the key after this time (at most TRESOR_API_KEY_MAX_DAYS ahead)' })),
        purposes: Type.Optional(Type.Array(Name, { minItems: 1, maxItems: 20, uniqueItems: true,
          description: 'Bind the key to these purposes of the tenant\'s instruction: it processes records only for those (and only where its collection serves them)' })),
      }, { additionalProperties: false }),
      response: { 201: NewApiKey, ...errorResponses } },
  }, async (req, reply) => reply.code(201).send(await apiKeys.createTenantKey(req.actor, req.params.tenantId, req.body, requestMeta(req))));

  app.get('/v1/tenants/:tenantId/api-keys', {
    config: access.tenant('api_keys.manage'),
    schema: { operationId: 'listApiKeys', summary: "List a tenant's API keys", tags: ['api-keys'], security: bearer, params: TenantParams,
      description: 'Keys with their prefix and last use; never the key itself.',
      response: { 200: Type.Object({ items: Type.Array(ApiKey) }), ...errorResponses } },
  }, async (req) => ({ items: await apiKeys.list(req.actor, req.params.tenantId) }));

  app.delete('/v1/tenants/:tenantId/api-keys/:keyId', {
    config: { ...access.tenant('api_keys.manage'), problems: ['api_key.not_found'] },
    schema: { operationId: 'revokeApiKey', summary: "Revoke a tenant's API key", tags: ['api-keys'], security: bearer, params: Type.Object({ tenantId: Uuid, keyId: Uuid }),
      description: 'The key stops working at once.',
      response: { 204: Type.Null(), ...errorResponses } },
  }, async (req, reply) => {
    await apiKeys.revoke(req.actor, req.params.tenantId, req.params.keyId, requestMeta(req));
    return reply.code(204).send(null);
  });

  app.post('/v1/operator-keys', {
    config: access.platform('operator_keys.manage'),
    schema: { operationId: 'createOperatorKey', summary: 'Create a platform key (operator or support)', tags: ['api-keys'], security: bearer,
      description: 'Operator keys manage tenants and keys and never read tenant data; support keys may only ask a tenant for '
        + 'a break-glass grant (see createSupportGrant). The key is shown this once.',
      body: Type.Object({
        name: Type.String({ minLength: 1, maxLength: 200 }),
        role: Type.Optional(StringEnum(PLATFORM_ROLES, { description: 'operator (the default) or support' })),
      }, { additionalProperties: false }),
      response: { 201: NewApiKey, ...errorResponses } },
  }, async (req, reply) => reply.code(201).send(await apiKeys.createOperatorKeyAs(req.actor, req.body.name, requestMeta(req), req.body.role)));

  app.get('/v1/operator-keys', {
    config: access.platform('operator_keys.manage'),
    schema: { operationId: 'listOperatorKeys', summary: 'List platform keys', tags: ['api-keys'], security: bearer,
      description: 'Operator and support keys with their prefix and last use; never the key itself.',
      response: { 200: Type.Object({ items: Type.Array(ApiKey) }), ...errorResponses } },
  }, async (req) => ({ items: await apiKeys.listOperatorKeys(req.actor) }));

  app.delete('/v1/operator-keys/:keyId', {
    config: { ...access.platform('operator_keys.manage'), problems: ['api_key.not_found', 'api_key.last_operator'] },
    schema: { operationId: 'revokeOperatorKey', summary: 'Revoke a platform key', tags: ['api-keys'], security: bearer, params: Type.Object({ keyId: Uuid }),
      description: 'Refused for the last active operator key, so the store is never left without one.', response: { 204: Type.Null(), ...errorResponses } },
  }, async (req, reply) => {
    await apiKeys.revokeOperatorKey(req.actor, req.params.keyId, requestMeta(req));
    return reply.code(204).send(null);
  });
}
