import { Type } from 'typebox';
import type { App } from '../http/app-types.ts';
import { access } from '../http/access.ts';
import { TenantParams, Timestamp, Uuid, bearer, errorResponses } from '../http/schemas.ts';
import type { RotationService } from './rotation-service.ts';

const KeyStatus = Type.Object({
  activeVersion: Type.Integer(),
  rotating: Type.Boolean(),
  versions: Type.Array(Type.Object({ version: Type.Integer(), status: Type.String(), createdAt: Timestamp, records: Type.Integer() })),
  unreadable: Type.Array(Type.Object({ id: Uuid, collection: Type.String() }), {
    description: 'records set aside because they do not decrypt (ids and collections only); they keep their key version from retiring' }),
}, { title: 'KeyStatus' });
const UnreadableParams = Type.Object({ tenantId: Uuid, recordId: Uuid });

export function keysRoutes(app: App, { rotation }: { rotation: RotationService }) {
  app.get('/v1/tenants/:tenantId/keys', {
    config: access.tenant('keys.rotate'),
    schema: { operationId: 'getKeyStatus', summary: "Read the tenant's data key status", tags: ['keys'], security: bearer, params: TenantParams,
      description: 'Key versions with their record counts, whether a rotation runs, and records that no longer decrypt.', response: { 200: KeyStatus, ...errorResponses } },
  }, async (req) => rotation.status(req.actor, req.params.tenantId));

  app.post('/v1/tenants/:tenantId/keys/rotate', {
    config: { ...access.tenant('keys.rotate'), problems: ['keys.rotation_in_progress'] },
    schema: { operationId: 'rotateKeys', summary: 'Rotate the tenant\'s data key', tags: ['keys'], security: bearer, params: TenantParams,
      description: 'Adds a data key version and re-encrypts every record under it in the background; poll getKeyStatus.', response: { 202: KeyStatus, ...errorResponses } },
  }, async (req, reply) => reply.code(202).send(await rotation.rotate(req.actor, req.params.tenantId)));

  app.post('/v1/tenants/:tenantId/keys/unreadable/:recordId/discard', {
    config: { ...access.tenant('keys.rotate'), problems: ['keys.unreadable_not_found'] },
    schema: { operationId: 'discardUnreadableRecord', summary: 'Discard a record that no longer decrypts', tags: ['keys'], security: bearer, params: UnreadableParams, response: { 200: KeyStatus, ...errorResponses },
      description: 'Deletes a record that no longer decrypts, so the old key version can retire' },
  }, async (req) => rotation.discardUnreadable(req.actor, req.params.tenantId, req.params.recordId));
}
