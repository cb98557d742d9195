import { Type, type TSchema } from 'typebox';
import type { App } from '../http/app-types.ts';
import { requestMeta } from '../http/request-meta.ts';
import { access } from '../http/access.ts';
import { TenantParams, errorResponses } from '../http/schemas.ts';
import type { AuthPolicyService } from './auth-policy-service.ts';

const orNull = <T extends TSchema>(schema: T, description: string) => Type.Union([schema, Type.Null()], { description });
// Bounds: what a tenant may ask for; the platform's own setting still wins where it is stricter.
const Overrides = Type.Object({
  passwordMinLength: Type.Optional(orNull(Type.Integer({ minimum: 8, maximum: 64 }), 'Minimum password length (the longer of this and the platform\'s applies)')),
  passwordComposition: Type.Optional(orNull(Type.Boolean(), 'Require upper case, lower case, a digit and a symbol')),
  passwordMaxAgeDays: Type.Optional(orNull(Type.Integer({ minimum: 1, maximum: 3650 }), 'Days after which a password must be changed')),
  passwordHistory: Type.Optional(orNull(Type.Integer({ minimum: 0, maximum: 24 }), 'How many previous passwords may not be reused')),
  sessionIdleMinutes: Type.Optional(orNull(Type.Integer({ minimum: 1, maximum: 1440 }), 'Automatic logout after this much inactivity (the shorter of this and the platform\'s applies)')),
  sessionAbsoluteMinutes: Type.Optional(orNull(Type.Integer({ minimum: 1, maximum: 43200 }), 'A session ends this long after login, whatever its use')),
}, { additionalProperties: false, title: 'AuthPolicyOverrides' });

const Effective = Type.Object({
  passwordMinLength: Type.Integer(), passwordMaxLength: Type.Integer(), passwordComposition: Type.Boolean(),
  passwordMaxAgeDays: Type.Integer({ description: '0: no maximum age' }), passwordHistory: Type.Integer(),
  sessionIdleMinutes: Type.Number(), sessionAbsoluteMinutes: Type.Number(),
}, { title: 'AuthPolicyEffective' });

const AuthPolicy = Type.Object({ overrides: Type.Required(Overrides), effective: Effective }, { title: 'AuthPolicy' });
const tags = ['users'];

/** The tenant's password and session policy: stricter than the platform's, never weaker. */
export function authPolicyRoutes(app: App, { authPolicy }: { authPolicy: AuthPolicyService }) {
  app.get('/v1/tenants/:tenantId/auth-policy', {
    config: access.tenant('auth_policy.read'),
    schema: { operationId: 'getAuthPolicy', summary: 'Read the tenant\'s password and session policy', tags, params: TenantParams,
      description: 'The tenant\'s overrides (null: the platform\'s setting) and the policy in force for its users.',
      response: { 200: AuthPolicy, ...errorResponses } },
  }, async (req) => authPolicy.get(req.actor, req.params.tenantId));

  app.put('/v1/tenants/:tenantId/auth-policy', {
    config: access.tenant('auth_policy.manage'),
    schema: { operationId: 'setAuthPolicy', summary: 'Set the tenant\'s password and session policy', tags, params: TenantParams, body: Overrides,
      description: 'Replaces the overrides (a field left out or null falls back to the platform\'s setting). A tenant can only make the rules stricter; '
        + 'new sessions and password changes follow them, sessions already open keep the limits they started with. Recorded as a security event.',
      response: { 200: AuthPolicy, ...errorResponses } },
  }, async (req) => authPolicy.set(req.actor, req.params.tenantId, req.body, requestMeta(req)));
}
