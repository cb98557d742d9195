import { Type } from 'typebox';
import { StringEnum, Timestamp, Uuid } from '../http/schemas.ts';
import { USER_PLATFORM_ROLES, USER_TENANT_ROLES } from './users-service.ts';

export const Email = Type.String({ format: 'email', minLength: 3, maxLength: 254, examples: ['ada@example.com'] });
/** Long enough for any policy (TRESOR_PASSWORD_MAX_LENGTH ≤ 1024); the policy itself is checked by the service. */
export const Password = Type.String({ minLength: 1, maxLength: 4096, description: 'Checked against the password policy; never stored, only its argon2id hash' });
export const OneTimeToken = Type.String({ minLength: 1, maxLength: 100 });
export const TotpCode = Type.String({ pattern: '^[0-9]{6}$', examples: ['123456'], description: 'The 6-digit code of the authenticator app' });
export const RecoveryCode = Type.String({ minLength: 1, maxLength: 40, description: 'One of the recovery codes shown at enrolment (each works once)' });

export const User = Type.Object({
  id: Uuid,
  tenantId: Type.Union([Uuid, Type.Null()], { description: 'null for platform users (operator, support)' }),
  email: Type.String(), name: Type.Union([Type.String(), Type.Null()]),
  role: Type.String(), status: StringEnum(['invited', 'active', 'deactivated'] as const),
  mfaEnrolled: Type.Boolean(), createdAt: Timestamp, updatedAt: Timestamp,
}, { title: 'User' });

export const Invitation = Type.Object({
  token: Type.String({ description: 'Single use; hand it to the person, who accepts it at POST /v1/auth/invitations/accept' }),
  expiresAt: Timestamp,
}, { title: 'Invitation' });

export const NewUser = Type.Object({ ...User.properties, invitation: Invitation }, { title: 'NewUser' });

const name = Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Display name (refused inside the password too)' }));
export const InviteTenantUser = Type.Object({ email: Email, role: StringEnum(USER_TENANT_ROLES), name }, { additionalProperties: false });
export const InvitePlatformUser = Type.Object({ email: Email, role: StringEnum(USER_PLATFORM_ROLES), name }, { additionalProperties: false });

const status = Type.Optional(StringEnum(['active', 'deactivated'] as const, { description: 'deactivated ends every session at once' }));
export const UpdateTenantUser = Type.Object({ role: Type.Optional(StringEnum(USER_TENANT_ROLES)), status },
  { additionalProperties: false, minProperties: 1, examples: [{ role: 'editor' }] });
export const UpdatePlatformUser = Type.Object({ role: Type.Optional(StringEnum(USER_PLATFORM_ROLES)), status },
  { additionalProperties: false, minProperties: 1, examples: [{ status: 'deactivated' }] });

export const UserParams = Type.Object({ tenantId: Uuid, userId: Uuid });
export const PlatformUserParams = Type.Object({ userId: Uuid });

export const Session = Type.Object({
  csrfToken: Type.String({ description: 'Send as X-CSRF-Token on every write made with the session cookie' }),
  expiresAt: Timestamp, idleExpiresAt: Timestamp, user: User,
}, { title: 'Session' });

export const SessionInfo = Type.Object({
  id: Uuid, current: Type.Boolean(), createdAt: Timestamp, lastSeenAt: Timestamp, idleExpiresAt: Timestamp, expiresAt: Timestamp,
  ip: Type.Union([Type.String(), Type.Null()]), userAgent: Type.Union([Type.String(), Type.Null()]),
}, { title: 'SessionInfo' });

export const LoginResult = Type.Union([
  Type.Object({ status: Type.Literal('mfa_required'), mfaToken: Type.String() }),
  Type.Object({ status: Type.Literal('mfa_enrollment_required'), enrollmentToken: Type.String() }),
  Type.Object({ status: Type.Literal('password_expired'), passwordResetToken: Type.String({ description: 'Use at POST /v1/auth/password/reset, then log in again' }) }),
], { title: 'LoginResult' });
