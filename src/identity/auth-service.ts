import { renderSVG } from 'uqr';
import type { Db, TenantTx, Tx } from '../db/db.ts';
import { RequestError, assertThat } from '../errors.ts';
import { type Actor, systemActor } from '../access/permissions.ts';
import { type Argon2Params, dummyHasher, verifyPassword } from '../crypto/passwords.ts';
import { newTotpSecret, otpauthUri, verifyTotp } from '../crypto/totp.ts';
import { hashRecoveryCode, newRecoveryCode } from './one-time-token.ts';
import { usersRepo, type UserRow } from './users-repo.ts';
import { accountKey, type ThrottleService } from './throttle-service.ts';
import type { Client, SessionsService } from './sessions-service.ts';
import type { TotpSecrets } from './totp-secrets.ts';
import { type PasswordsService, issueStepToken, usableToken, useToken } from './passwords-service.ts';
import { publicUser } from './users-service.ts';
import { type SecurityEventsSeam, auditUser, inScope, normaliseEmail, recordEvent, selfActor } from './identity-scope.ts';

export interface AuthDeps {
  db: Db; now: () => Date; argon2: Argon2Params; loginStepTtlMs: number; issuer: string;
  sessions: Pick<SessionsService, 'create'>; throttle: ThrottleService; totpSecrets: TotpSecrets;
  passwords: Pick<PasswordsService, 'rehashIfNeeded' | 'policyFor'>; securityEvents: SecurityEventsSeam;
}

const RECOVERY_CODES = 10;
const DAY = 86_400_000;
const loginActor = systemActor('login');

/**
 * Login (DESIGN "People and sessions"): a password never makes a session by
 * itself; the second factor (TOTP, or a one-time recovery code) does. An
 * unknown account, a wrong password and a deactivated user answer alike,
 * after the same argon2id work.
 */
export function authServiceFactory(deps: AuthDeps) {
  const { db, now, loginStepTtlMs, sessions, throttle, totpSecrets, passwords, securityEvents } = deps;
  const dummyHash = dummyHasher(deps.argon2);

  /** Counts a failure and records it (and a lockout), committed although the request fails. */
  async function failed(tenantId: string | null, account: Buffer, type: 'login.failed' | 'mfa.failed', userId: string | null, client: Client) {
    await inScope(db, tenantId, async (tx, ttx) => {
      const locked = await throttle.fail(tx, account, client.ip, now());
      const base = { actor: loginActor, ...client, detail: { userId } };
      await recordEvent(securityEvents, tx, ttx, { ...base, type });
      if (locked) await recordEvent(securityEvents, tx, ttx, { ...base, type: 'account.locked' });
    });
  }

  async function startSession(tx: Tx, ttx: TenantTx | null, user: UserRow, client: Client, extra: Record<string, unknown> = {}) {
    const policy = await passwords.policyFor(tx, user.tenantId);
    const s = await sessions.create(tx, user, client, { idleMs: policy.sessionIdleMs, absoluteMs: policy.sessionAbsoluteMs });
    await throttle.succeed(tx, accountKey(user.tenantId, user.emailNorm));
    await recordEvent(securityEvents, tx, ttx, { actor: loginActor, ...client, type: 'login.succeeded', detail: { userId: user.id } });
    auditUser(tx, 'session.create', selfActor(user), user, { sessionId: s.id });
    return { cookie: { token: s.token, maxAgeSeconds: s.maxAgeSeconds },
      body: { ...extra, csrfToken: s.csrfToken, expiresAt: s.expiresAt.toISOString(), idleExpiresAt: s.idleExpiresAt.toISOString(), user: publicUser(user) } };
  }

  async function passwordStep(tx: Tx, user: UserRow, password: string) {
    await passwords.rehashIfNeeded(tx, user, password);
    auditUser(tx, 'user.login_password', selfActor(user), user);
    const policy = await passwords.policyFor(tx, user.tenantId);
    const age = now().getTime() - (user.passwordChangedAt?.getTime() ?? now().getTime());
    if (policy.password.maxAgeDays > 0 && age > policy.password.maxAgeDays * DAY) {
      return { status: 'password_expired' as const, passwordResetToken: await issueStepToken(tx, user, 'password_reset', loginStepTtlMs, now()) };
    }
    if (!user.mfaEnrolledAt) return { status: 'mfa_enrollment_required' as const, enrollmentToken: await issueStepToken(tx, user, 'enrollment', loginStepTtlMs, now()) };
    return { status: 'mfa_required' as const, mfaToken: await issueStepToken(tx, user, 'mfa', loginStepTtlMs, now()) };
  }

  /** The user a login-step token stands for, if it may still log in. */
  async function stepUser(tx: Tx, t: { tenantId: string | null; userId: string }) {
    const user = await usersRepo.get(tx, t.tenantId, t.userId, true);
    assertThat(user && user.status === 'active', () => new RequestError('auth.token_invalid'));
    return user;
  }

  async function checkSecondFactor(tx: Tx, ttx: TenantTx | null, user: UserRow, input: { code?: string; recoveryCode?: string }) {
    if (input.recoveryCode !== undefined) return usersRepo.useRecoveryCode(tx, user.id, hashRecoveryCode(input.recoveryCode));
    if (!user.totpSecret || !user.mfaEnrolledAt) return false;
    const secret = await totpSecrets.open(ttx, user.id, { secret: Buffer.from(user.totpSecret), keyVersion: user.totpKeyVersion });
    const step = verifyTotp(secret, input.code ?? '', now(), user.totpLastStep);
    return step !== null && usersRepo.useTotpStep(tx, user.id, step);
  }

  return {
    async login(input: { tenantId?: string; email: string; password: string }, client: Client) {
      const tenantId = input.tenantId ?? null;
      const account = accountKey(tenantId, normaliseEmail(input.email));
      await throttle.assertAllowed(db, account, client.ip, now());
      const outcome = await inScope(db, tenantId, async (tx) => {
        const user = await usersRepo.byEmail(tx, tenantId, normaliseEmail(input.email));
        const usable = user?.status === 'active' && user.passwordHash;
        const ok = await verifyPassword(usable ? user.passwordHash! : await dummyHash(), input.password);
        if (!ok || !usable) return { user };
        return { user, next: await passwordStep(tx, user, input.password) };
      });
      if (outcome.next) return outcome.next;
      await failed(tenantId, account, 'login.failed', outcome.user?.id ?? null, client);
      throw new RequestError('auth.login_failed');
    },

    /** A new TOTP secret for the user (replacing an unconfirmed one), as an otpauth:// URI and its QR code. */
    async enroll(input: { enrollmentToken: string }) {
      const t = await usableToken(db, input.enrollmentToken, 'enrollment', now());
      return inScope(db, t.tenantId, async (tx, ttx) => {
        const user = await stepUser(tx, t);
        assertThat(!user.mfaEnrolledAt, () => new RequestError('auth.mfa_already_enrolled'));
        const secret = newTotpSecret();
        const sealed = await totpSecrets.seal(ttx, user.id, secret);
        await usersRepo.setPendingTotp(tx, user.id, sealed.secret, sealed.keyVersion);
        auditUser(tx, 'user.mfa_enroll', selfActor(user), user);
        const otpauth = otpauthUri({ issuer: deps.issuer, account: user.email, secret });
        return { otpauthUri: otpauth, qrSvg: renderSVG(otpauth) };
      });
    },

    /** The first code proves the authenticator works: 2FA is on, recovery codes are shown once, and a session starts. */
    async confirmEnrollment(input: { enrollmentToken: string; code: string }, client: Client) {
      const t = await usableToken(db, input.enrollmentToken, 'enrollment', now());
      const outcome = await inScope(db, t.tenantId, async (tx, ttx) => {
        const user = await stepUser(tx, t);
        assertThat(!user.mfaEnrolledAt, () => new RequestError('auth.mfa_already_enrolled'));
        await throttle.assertAllowed(tx, accountKey(user.tenantId, user.emailNorm), client.ip, now());
        const secret = user.totpSecret && await totpSecrets.open(ttx, user.id, { secret: Buffer.from(user.totpSecret), keyVersion: user.totpKeyVersion });
        const step = secret ? verifyTotp(secret, input.code, now(), null) : null;
        if (step === null) return { user };
        const codes = Array.from({ length: RECOVERY_CODES }, newRecoveryCode);
        await usersRepo.confirmTotp(tx, user.id, step, codes.map(hashRecoveryCode), now());
        auditUser(tx, 'user.mfa_confirm', selfActor(user), user);
        await useToken(tx, t.hash, now());
        return { user, session: await startSession(tx, ttx, { ...user, mfaEnrolledAt: now() }, client, { recoveryCodes: codes }) };
      });
      if (outcome.session) return outcome.session;
      await failed(t.tenantId, accountKey(outcome.user.tenantId, outcome.user.emailNorm), 'mfa.failed', outcome.user.id, client);
      throw new RequestError('auth.mfa_failed');
    },

    /** The second factor: a TOTP code (each accepted once) or an unused recovery code. */
    async verifyMfa(input: { mfaToken: string; code?: string; recoveryCode?: string }, client: Client) {
      assertThat((input.code === undefined) !== (input.recoveryCode === undefined),
        () => new RequestError('request.validation_failed', 'Send either code or recoveryCode'));
      const t = await usableToken(db, input.mfaToken, 'mfa', now());
      const outcome = await inScope(db, t.tenantId, async (tx, ttx) => {
        const user = await stepUser(tx, t);
        await throttle.assertAllowed(tx, accountKey(user.tenantId, user.emailNorm), client.ip, now());
        if (!await checkSecondFactor(tx, ttx, user, input)) return { user };
        if (input.recoveryCode !== undefined) auditUser(tx, 'user.recovery_code_use', selfActor(user), user);
        await useToken(tx, t.hash, now());
        return { user, session: await startSession(tx, ttx, user, client) };
      });
      if (outcome.session) return outcome.session;
      await failed(t.tenantId, accountKey(outcome.user.tenantId, outcome.user.emailNorm), 'mfa.failed', outcome.user.id, client);
      throw new RequestError('auth.mfa_failed');
    },

    async me(actor: Actor) {
      assertThat(actor.type === 'user', () => new RequestError('auth.forbidden', 'Only a user has an account'));
      const user = await inScope(db, actor.tenantId, (tx) => usersRepo.get(tx, actor.tenantId, actor.id));
      assertThat(user, () => new RequestError('auth.invalid_credentials'));
      return { user: publicUser(user), sessionId: actor.sessionId };
    },
  };
}

export type AuthService = ReturnType<typeof authServiceFactory>;
