import { Type } from 'typebox';
import type { App } from '../http/app-types.ts';
import { access } from '../http/access.ts';
import { CollectionParams, Name, StringEnum, Timestamp, bearer, errorResponses } from '../http/schemas.ts';
import type { RetentionService } from './retention-service.ts';

const BASES = ['created', 'updated', 'field'] as const;

const PolicyBody = Type.Object({
  basis: StringEnum(BASES, { description: 'count from the record\'s creation, its last update, or the date in `field`' }),
  days: Type.Integer({ minimum: 0, maximum: 36_500, description: 'days after the basis when the record is deleted (at most 100 years)', examples: [395] }),
  field: Type.Optional(Name),
}, { additionalProperties: false, title: 'RetentionPolicyInput',
  description: 'basis `field` names a date field classified `none` (e.g. a contract\'s end date); the other bases take no field' });

const Policy = Type.Object({
  collection: Type.String(),
  basis: StringEnum(BASES),
  days: Type.Integer(),
  field: Type.Optional(Type.String()),
  updatedAt: Timestamp,
}, { title: 'RetentionPolicy' });

export function retentionRoutes(app: App, { retention }: { retention: RetentionService }) {
  const path = '/v1/tenants/:tenantId/collections/:name/retention';
  app.get(path, {
    config: { ...access.tenant('retention.read'), problems: ['collection.not_found', 'retention.not_found'] },
    schema: { operationId: 'getRetentionPolicy', summary: "Read a collection's retention policy", tags: ['lifecycle'], security: bearer, params: CollectionParams,
      response: { 200: Policy, ...errorResponses } },
  }, async (req) => retention.get(req.actor, req.params.tenantId, req.params.name));

  app.put(path, {
    config: { ...access.tenant('retention.manage'), problems: ['collection.not_found', 'retention.invalid_policy', 'tenant.not_active'] },
    schema: { operationId: 'putRetentionPolicy', summary: "Set a collection's retention policy", tags: ['lifecycle'], security: bearer, params: CollectionParams,
      description: 'Records of the collection are deleted `days` days after their creation, last update, or the date in a date field; the retention job enforces it every TRESOR_RETENTION_POLL_MS, skipping records under a legal hold. Replaces any earlier policy.',
      body: PolicyBody, response: { 200: Policy, ...errorResponses } },
  }, async (req) => retention.put(req.actor, req.params.tenantId, req.params.name, req.body));

  app.delete(path, {
    config: { ...access.tenant('retention.manage'), problems: ['collection.not_found', 'retention.not_found', 'tenant.not_active'] },
    schema: { operationId: 'deleteRetentionPolicy', summary: "Remove a collection's retention policy", tags: ['lifecycle'], security: bearer, params: CollectionParams,
      description: 'Records are kept until deleted otherwise.', response: { 204: Type.Null(), ...errorResponses } },
  }, async (req, reply) => { await retention.remove(req.actor, req.params.tenantId, req.params.name); return reply.code(204).send(null); });
}
