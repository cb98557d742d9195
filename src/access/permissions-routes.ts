import { Type } from 'typebox';
import type { App } from '../http/app-types.ts';
import { access } from '../http/access.ts';
import { StringEnum, errorResponses } from '../http/schemas.ts';
import { PLATFORM_ROLES, ROLES, SUPPORT_GRANT_ROLE, actionDescriptions, permissions, roleDescriptions } from './permissions.ts';

const RoleName = StringEnum(ROLES);

const Permissions = Type.Object({
  roles: Type.Array(Type.Object({ name: RoleName, scope: StringEnum(['platform', 'tenant'] as const), description: Type.String() })),
  actions: Type.Array(Type.Object({ name: Type.String(), description: Type.String(), roles: Type.Array(RoleName) })),
  supportGrantRole: Type.String({ description: 'The role support acts as on a tenant while a grant is approved and unexpired' }),
}, { title: 'Permissions' });

// Built once: the matrix is code, it does not change while the process runs.
const matrix = {
  roles: ROLES.map((name) => ({ name, scope: (PLATFORM_ROLES as readonly string[]).includes(name) ? 'platform' as const : 'tenant' as const,
    description: roleDescriptions[name] })),
  actions: Object.entries(permissions).map(([name, roles]) =>
    ({ name, description: actionDescriptions[name as keyof typeof permissions], roles: [...roles] })),
  supportGrantRole: SUPPORT_GRANT_ROLE,
};

// Public, like /openapi.json, which states each route's roles anyway: the
// matrix is how Tresor works, not a secret, and a client can show it before login.
export function permissionsRoutes(app: App) {
  app.get('/v1/permissions', {
    config: access.public,
    schema: { operationId: 'getPermissions', summary: 'The role × action matrix', tags: ['security'],
      description: 'Every role and every action with the roles allowed to perform it: the same matrix the server enforces.',
      response: { 200: Permissions, ...errorResponses } },
  }, async () => matrix);
}
