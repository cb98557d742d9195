import { Type } from 'typebox';
import type { App } from '../http/app-types.ts';
import { requestMeta } from '../http/request-meta.ts';
import { access } from '../http/access.ts';
import { TenantParams, Timestamp, errorResponses } from '../http/schemas.ts';
import type { UsersService } from './users-service.ts';
import { InvitePlatformUser, InviteTenantUser, NewUser, PlatformUserParams, UpdatePlatformUser, UpdateTenantUser, User, UserParams } from './identity-schemas.ts';

const PasswordReset = Type.Object({ token: Type.String({ description: 'Single use; POST /v1/auth/password/reset' }), expiresAt: Timestamp }, { title: 'PasswordReset' });
const tags = ['users'];

/** A tenant's users: owners and admins manage them; an operator may invite the first owner. */
export function usersRoutes(app: App, { users }: { users: UsersService }) {
  app.post('/v1/tenants/:tenantId/users', {
    config: { ...access.tenant('users.invite'), problems: ['user.email_taken', 'user.role_not_grantable'] },
    schema: { operationId: 'inviteUser', summary: 'Invite a user to a tenant', tags, params: TenantParams, body: InviteTenantUser,
      description: 'Makes an invited user and a single-use invitation token (shown once, stored hashed). Nobody grants a role above their own; an operator invites only the first owner.',
      response: { 201: NewUser, ...errorResponses } },
  }, async (req, reply) => reply.code(201).send(await users.invite(req.actor, { tenantId: req.params.tenantId, ...req.body })));

  app.get('/v1/tenants/:tenantId/users', {
    config: access.tenant('users.manage'),
    schema: { operationId: 'listUsers', summary: "List a tenant's users", tags, params: TenantParams,
      description: 'Every user of the tenant, invited and deactivated ones included.',
      response: { 200: Type.Object({ items: Type.Array(User) }), ...errorResponses } },
  }, async (req) => ({ items: await users.list(req.actor, { tenantId: req.params.tenantId }) }));

  app.patch('/v1/tenants/:tenantId/users/:userId', {
    config: { ...access.tenant('users.manage'), problems: ['user.not_found', 'user.role_not_grantable', 'user.last_owner'] },
    schema: { operationId: 'updateUser', summary: "Change a user's role or status", tags, params: UserParams, body: UpdateTenantUser,
      description: 'A role change or deactivation ends all of the user\'s sessions on its next request; the last active owner stays.',
      response: { 200: User, ...errorResponses } },
  }, async (req) => users.update(req.actor, { ...req.params, ...req.body }, requestMeta(req)));

  app.post('/v1/tenants/:tenantId/users/:userId/mfa-reset', {
    config: { ...access.tenant('users.reset_mfa'), problems: ['user.not_found', 'user.role_not_grantable'] },
    schema: { operationId: 'resetUserMfa', summary: "Reset a user's second factor", tags, params: UserParams,
      description: 'For a lost authenticator: the TOTP secret and recovery codes are removed, the user\'s sessions end, and the next login enrols again. Recorded as a security event.',
      response: { 200: User, ...errorResponses } },
  }, async (req) => users.resetMfa(req.actor, req.params, requestMeta(req)));

  app.post('/v1/tenants/:tenantId/users/:userId/password-reset', {
    config: { ...access.tenant('users.manage'), problems: ['user.not_found', 'user.role_not_grantable'] },
    schema: { operationId: 'issuePasswordReset', summary: 'Issue a password reset token', tags, params: UserParams,
      description: 'A single-use token (TRESOR_PASSWORD_RESET_TTL_MINUTES, 30 by default) to hand to the user out of band.',
      response: { 201: PasswordReset, ...errorResponses } },
  }, async (req, reply) => reply.code(201).send(await users.issuePasswordReset(req.actor, req.params)));

  platformUsersRoutes(app, users);
}

/** The platform's own people: operators and support staff, managed by operators. */
function platformUsersRoutes(app: App, users: UsersService) {
  app.post('/v1/users', {
    config: { ...access.platform('platform_users.manage'), problems: ['user.email_taken', 'user.role_not_grantable'] },
    schema: { operationId: 'invitePlatformUser', summary: 'Invite an operator or support user', tags, body: InvitePlatformUser,
      description: 'Platform users log in without a tenantId.', response: { 201: NewUser, ...errorResponses } },
  }, async (req, reply) => reply.code(201).send(await users.invite(req.actor, { tenantId: null, ...req.body })));

  app.get('/v1/users', {
    config: access.platform('platform_users.manage'),
    schema: { operationId: 'listPlatformUsers', summary: 'List platform users', tags,
      description: 'Operators and support staff.', response: { 200: Type.Object({ items: Type.Array(User) }), ...errorResponses } },
  }, async (req) => ({ items: await users.list(req.actor, { tenantId: null }) }));

  app.patch('/v1/users/:userId', {
    config: { ...access.platform('platform_users.manage'), problems: ['user.not_found', 'user.role_not_grantable'] },
    schema: { operationId: 'updatePlatformUser', summary: "Change a platform user's role or status", tags, params: PlatformUserParams, body: UpdatePlatformUser,
      description: 'A role change or deactivation ends the user\'s sessions.', response: { 200: User, ...errorResponses } },
  }, async (req) => users.update(req.actor, { tenantId: null, ...req.params, ...req.body }, requestMeta(req)));

  app.post('/v1/users/:userId/mfa-reset', {
    config: { ...access.platform('platform_users.manage'), problems: ['user.not_found'] },
    schema: { operationId: 'resetPlatformUserMfa', summary: "Reset a platform user's second factor", tags, params: PlatformUserParams,
      description: 'As for tenant users; recorded as a platform security event.', response: { 200: User, ...errorResponses } },
  }, async (req) => users.resetMfa(req.actor, { tenantId: null, ...req.params }, requestMeta(req)));
}
