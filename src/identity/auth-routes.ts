import { Type } from 'typebox';
import type { FastifyReply } from 'fastify';
import type { App } from '../http/app-types.ts';
import { SESSION_ONLY, access } from '../http/access.ts';
import { Uuid, errorResponses } from '../http/schemas.ts';
import type { AuthService } from './auth-service.ts';
import type { PasswordsService } from './passwords-service.ts';
import type { SessionsService } from './sessions-service.ts';
import { clearedSessionCookie, sessionCookie } from './session-cookie.ts';
import { requestMeta } from '../http/request-meta.ts';
import { Email, LoginResult, OneTimeToken, Password, RecoveryCode, Session, SessionInfo, TotpCode, User } from './identity-schemas.ts';

const tags = ['auth'];
const strict = { additionalProperties: false } as const;
const self = () => access.platform('account.self', SESSION_ONLY);

/** Sets the session cookie and answers the session's body. */
const withCookie = <B>(reply: FastifyReply, s: { cookie: { token: string; maxAgeSeconds: number }; body: B }) =>
  reply.header('set-cookie', sessionCookie(s.cookie.token, s.cookie.maxAgeSeconds)).send(s.body);

export interface AuthRoutesDeps { auth: AuthService; passwords: PasswordsService; sessions: SessionsService }

/** Login, 2FA enrolment and verification (public: they make the session), then the user's own session routes. */
export function authRoutes(app: App, { auth, passwords, sessions }: AuthRoutesDeps) {
  app.post('/v1/auth/login', {
    config: { ...access.public, problems: ['auth.login_failed', 'auth.too_many_attempts'] },
    schema: { operationId: 'login', summary: 'Log in with e-mail and password', tags,
      description: 'Never a session by itself: the answer asks for the second factor (or its enrolment). Unknown accounts and wrong passwords answer alike.',
      body: Type.Object({ tenantId: Type.Optional(Uuid), email: Email, password: Password }, strict),
      response: { 200: LoginResult, ...errorResponses } },
  }, async (req) => auth.login(req.body, requestMeta(req)));

  app.post('/v1/auth/invitations/accept', {
    config: { ...access.public, problems: ['auth.token_invalid', 'auth.password_rejected'] },
    schema: { operationId: 'acceptInvitation', summary: 'Accept an invitation and choose a password', tags,
      description: 'The invitation works once. The answer starts two-factor enrolment.',
      body: Type.Object({ token: OneTimeToken, password: Password }, strict),
      response: { 200: Type.Object({ enrollmentToken: Type.String() }), ...errorResponses } },
  }, async (req) => passwords.acceptInvitation(req.body));

  app.post('/v1/auth/mfa/enroll', {
    config: { ...access.public, problems: ['auth.token_invalid', 'auth.mfa_already_enrolled'] },
    schema: { operationId: 'enrollMfa', summary: 'Start TOTP enrolment', tags,
      description: 'A new TOTP secret as an otpauth:// URI and an SVG QR code of it, for an authenticator app.',
      body: Type.Object({ enrollmentToken: OneTimeToken }, strict),
      response: { 200: Type.Object({ otpauthUri: Type.String(), qrSvg: Type.String() }), ...errorResponses } },
  }, async (req) => auth.enroll(req.body));

  app.post('/v1/auth/mfa/enroll/confirm', {
    config: { ...access.public, problems: ['auth.token_invalid', 'auth.mfa_already_enrolled', 'auth.mfa_failed', 'auth.too_many_attempts'] },
    schema: { operationId: 'confirmMfaEnrollment', summary: 'Confirm TOTP enrolment with a first code', tags,
      description: 'Turns 2FA on, answers 10 one-time recovery codes (shown this once) and starts a session (cookie `__Host-tresor`).',
      body: Type.Object({ enrollmentToken: OneTimeToken, code: TotpCode }, strict),
      response: { 200: Type.Object({ recoveryCodes: Type.Array(Type.String()), ...Session.properties }, { title: 'EnrolledSession' }), ...errorResponses } },
  }, async (req, reply) => withCookie(reply, await auth.confirmEnrollment(req.body, requestMeta(req))));

  app.post('/v1/auth/mfa/verify', {
    config: { ...access.public, problems: ['auth.token_invalid', 'auth.mfa_failed', 'auth.too_many_attempts'] },
    schema: { operationId: 'verifyMfa', summary: 'Complete login with the second factor', tags,
      description: 'A TOTP code (each accepted once) or an unused recovery code; starts a session (cookie `__Host-tresor`, body with its csrfToken).',
      body: Type.Object({ mfaToken: OneTimeToken, code: Type.Optional(TotpCode), recoveryCode: Type.Optional(RecoveryCode) }, strict),
      response: { 200: Session, ...errorResponses } },
  }, async (req, reply) => withCookie(reply, await auth.verifyMfa(req.body, requestMeta(req))));

  app.post('/v1/auth/password/reset', {
    config: { ...access.public, problems: ['auth.token_invalid', 'auth.password_rejected'] },
    schema: { operationId: 'completePasswordReset', summary: 'Set a new password with a reset token', tags,
      description: 'The token (from an admin, or from a login whose password had expired) works once, within 30 minutes by default; every session of the user ends.',
      body: Type.Object({ token: OneTimeToken, newPassword: Password }, strict), response: { 204: Type.Null(), ...errorResponses } },
  }, async (req, reply) => { await passwords.completeReset(req.body, requestMeta(req)); return reply.code(204).send(null); });

  sessionRoutes(app, { auth, passwords, sessions });
}

function sessionRoutes(app: App, { auth, passwords, sessions }: AuthRoutesDeps) {
  app.get('/v1/auth/me', {
    config: self(),
    schema: { operationId: 'me', summary: 'The signed-in user', tags, description: 'The user of the session cookie.',
      response: { 200: Type.Object({ user: User, sessionId: Uuid }), ...errorResponses } },
  }, async (req) => auth.me(req.actor));

  app.get('/v1/auth/sessions', {
    config: self(),
    schema: { operationId: 'listSessions', summary: "The signed-in user's sessions", tags, description: 'Sessions not yet ended, newest first; `current` marks this one.',
      response: { 200: Type.Object({ items: Type.Array(SessionInfo) }), ...errorResponses } },
  }, async (req) => ({ items: await sessions.list(req.actor) }));

  app.post('/v1/auth/logout', {
    config: self(),
    schema: { operationId: 'logout', summary: 'End this session', tags, description: 'Ends the session and clears the cookie.', response: { 204: Type.Null(), ...errorResponses } },
  }, async (req, reply) => { await sessions.logout(req.actor); return reply.code(204).header('set-cookie', clearedSessionCookie()).send(null); });

  app.post('/v1/auth/logout-all', {
    config: self(),
    schema: { operationId: 'logoutAll', summary: 'End every session of the user', tags, description: 'Logout everywhere: every session of the user ends, this one included.',
      response: { 204: Type.Null(), ...errorResponses } },
  }, async (req, reply) => { await sessions.logoutAll(req.actor); return reply.code(204).header('set-cookie', clearedSessionCookie()).send(null); });

  app.post('/v1/auth/password', {
    config: { ...self(), problems: ['auth.wrong_password', 'auth.password_rejected', 'auth.too_many_attempts'] },
    schema: { operationId: 'changePassword', summary: 'Change the signed-in user\'s password', tags,
      description: 'Needs the current password; the user\'s other sessions end.',
      body: Type.Object({ currentPassword: Password, newPassword: Password }, strict), response: { 204: Type.Null(), ...errorResponses } },
  }, async (req, reply) => { await passwords.change(req.actor, req.body, requestMeta(req)); return reply.code(204).send(null); });
}
