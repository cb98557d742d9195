import { Type } from 'typebox';
import type { App } from '../http/app-types.ts';
import { authorizeTenant } from '../access/permissions.ts';
import { TenantParams, Timestamp, bearer, errorResponses } from '../http/schemas.ts';
import type { KeysService } from './keys-service.ts';
import type { RotationService } from './rotation-service.ts';

const KeyStatus = Type.Object({
  activeVersion: Type.Integer(),
  rotating: Type.Boolean(),
  versions: Type.Array(Type.Object({ version: Type.Integer(), status: Type.String(), createdAt: Timestamp, records: Type.Integer() })),
});

export function keysRoutes(app: App, { keys, rotation }: { keys: KeysService; rotation: RotationService }) {
  const status = async (tenantId: string) => {
    const s = await keys.status(tenantId);
    return { ...s, rotating: s.versions.some((v) => v.status === 'retiring') };
  };

  app.get('/v1/tenants/:tenantId/keys', {
    schema: { tags: ['keys'], security: bearer, params: TenantParams, response: { 200: KeyStatus, ...errorResponses } },
  }, async (req) => {
    authorizeTenant(req.actor, req.params.tenantId, 'keys.rotate');
    return status(req.params.tenantId);
  });

  app.post('/v1/tenants/:tenantId/keys/rotate', {
    schema: { tags: ['keys'], security: bearer, params: TenantParams, response: { 202: KeyStatus, ...errorResponses } },
  }, async (req, reply) => {
    authorizeTenant(req.actor, req.params.tenantId, 'keys.rotate');
    await rotation.start(req.params.tenantId);
    return reply.code(202).send(await status(req.params.tenantId));
  });
}
