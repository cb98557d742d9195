import { Type } from 'typebox';
import type { App } from '../http/app-types.ts';
import { access } from '../http/access.ts';
import { TenantParams, Timestamp, bearer, errorResponses } from '../http/schemas.ts';
import type { RotationService } from './rotation-service.ts';

const KeyStatus = Type.Object({
  activeVersion: Type.Integer(),
  rotating: Type.Boolean(),
  versions: Type.Array(Type.Object({ version: Type.Integer(), status: Type.String(), createdAt: Timestamp, records: Type.Integer() })),
});

export function keysRoutes(app: App, { rotation }: { rotation: RotationService }) {
  app.get('/v1/tenants/:tenantId/keys', {
    config: access.tenant('keys.rotate'),
    schema: { tags: ['keys'], security: bearer, params: TenantParams, response: { 200: KeyStatus, ...errorResponses } },
  }, async (req) => rotation.status(req.actor, req.params.tenantId));

  app.post('/v1/tenants/:tenantId/keys/rotate', {
    config: access.tenant('keys.rotate'),
    schema: { tags: ['keys'], security: bearer, params: TenantParams, response: { 202: KeyStatus, ...errorResponses } },
  }, async (req, reply) => reply.code(202).send(await rotation.rotate(req.actor, req.params.tenantId)));
}
