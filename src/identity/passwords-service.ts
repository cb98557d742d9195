import type { Db, Tx } from '../db/db.ts';
import { RequestError, assertThat, withProblems } from '../errors.ts';
import { type Actor, systemActor } from '../access/permissions.ts';
import { type Argon2Params, hashPassword, needsRehash, verifyPassword } from '../crypto/passwords.ts';
import { passwordProblems } from './password-policy.ts';
import { type AuthPolicy, type PlatformAuthPolicy, authPolicyFor } from './auth-policy.ts';
import { usersRepo, type UserRow } from './users-repo.ts';
import { tokensRepo, type TokenKind } from './tokens-repo.ts';
import { hashToken, newToken } from './one-time-token.ts';
import type { Client, SessionsService } from './sessions-service.ts';
import type { ThrottleService } from './throttle-service.ts';
import { accountKey } from './throttle-service.ts';
import { type SecurityEventsSeam, auditUser, inScope, recordEvent, selfActor } from './identity-scope.ts';

export interface PasswordsDeps {
  db: Db; now: () => Date; argon2: Argon2Params; platformPolicy: PlatformAuthPolicy; loginStepTtlMs: number;
  sessions: Pick<SessionsService, 'revokeForUser'>; throttle: Pick<ThrottleService, 'fail' | 'succeed' | 'assertAllowed'>; securityEvents: SecurityEventsSeam;
}

/** A usable one-time token of `kind`, looked up in platform context (the tenant is not known before). */
export async function usableToken(db: Db, token: string, kind: TokenKind, now: Date) {
  const hash = hashToken(token);
  const row = await tokensRepo.findUsable(db, hash, kind, now);
  assertThat(row, () => new RequestError('auth.token_invalid'));
  return { ...row, hash };
}

/** Uses a token in the caller's transaction; a token used by a concurrent request is refused. */
export async function useToken(tx: Tx, hash: Buffer, now: Date) {
  assertThat(await tokensRepo.use(tx, hash, now), () => new RequestError('auth.token_invalid'));
}

/** Issues a login-step token (enrolment or second factor) for the user, valid TRESOR_LOGIN_STEP_TTL_MINUTES. */
export async function issueStepToken(tx: Tx, user: UserRow, kind: 'enrollment' | 'mfa' | 'password_reset', ttlMs: number, now: Date) {
  const t = newToken(kind === 'enrollment' ? 'tenr' : kind === 'mfa' ? 'tmfa' : 'trst');
  await tokensRepo.insert(tx, { hash: t.hash, kind, tenantId: user.tenantId, userId: user.id, expiresAt: new Date(now.getTime() + ttlMs), now });
  return t.token;
}

/**
 * Setting, changing and resetting passwords under the tenant's policy. A
 * password is only ever hashed (argon2id): never logged, returned or stored
 * reversibly; problems name the rule, never the password.
 */
export function passwordsServiceFactory({ db, now, argon2, platformPolicy, loginStepTtlMs, sessions, throttle, securityEvents }: PasswordsDeps) {
  async function reused(user: UserRow, password: string, history: number) {
    const earlier = [user.passwordHash, ...user.passwordHistory.slice(0, history)].filter((h): h is string => !!h);
    for (const h of earlier) if (await verifyPassword(h, password)) return true;
    return false;
  }

  /** Checks the policy and stores the new hash (keeping history when the policy asks); changes nothing on a refusal. */
  async function setPassword(tx: Tx, user: UserRow, password: string, policy: AuthPolicy, activate: boolean) {
    const problems = passwordProblems(policy.password, password, user);
    if (policy.password.history > 0 && await reused(user, password, policy.password.history)) {
      problems.push({ code: 'password.reused', detail: 'The password was used before' });
    }
    if (problems.length) throw withProblems('auth.password_rejected', problems);
    const history = policy.password.history > 0 && user.passwordHash ? [user.passwordHash, ...user.passwordHistory].slice(0, policy.password.history) : [];
    await usersRepo.setPassword(tx, user.id, { hash: await hashPassword(password, argon2), history, changedAt: now(), activate });
  }

  const policyFor = (tx: Tx, tenantId: string | null) => authPolicyFor(tx, tenantId, platformPolicy);

  return {
    setPassword,
    policyFor,
    /** After a successful login: a hash made with older argon2id parameters is made again with the current ones. */
    async rehashIfNeeded(tx: Tx, user: UserRow, password: string) {
      if (!user.passwordHash || !needsRehash(user.passwordHash, argon2)) return;
      await usersRepo.setPassword(tx, user.id, { hash: await hashPassword(password, argon2), history: user.passwordHistory, changedAt: null, activate: false });
    },

    /** The invited user chooses a password; the answer starts 2FA enrolment. */
    async acceptInvitation(input: { token: string; password: string }) {
      const t = await usableToken(db, input.token, 'invitation', now());
      return inScope(db, t.tenantId, async (tx) => {
        const user = await usersRepo.get(tx, t.tenantId, t.userId, true);
        assertThat(user && user.status === 'invited', () => new RequestError('auth.token_invalid'));
        await setPassword(tx, user, input.password, await policyFor(tx, t.tenantId), true);
        await useToken(tx, t.hash, now());
        auditUser(tx, 'user.accept_invitation', selfActor(user), user);
        return { enrollmentToken: await issueStepToken(tx, user, 'enrollment', loginStepTtlMs, now()) };
      });
    },

    /** A signed-in user changes its password; its other sessions end. */
    async change(actor: Actor, input: { currentPassword: string; newPassword: string }, client: Client) {
      assertThat(actor.type === 'user', () => new RequestError('auth.forbidden', 'Only a user has a password'));
      const user = await inScope(db, actor.tenantId, (tx) => usersRepo.get(tx, actor.tenantId, actor.id));
      assertThat(user?.passwordHash, () => new RequestError('auth.invalid_credentials'));
      const account = accountKey(user.tenantId, user.emailNorm);
      await throttle.assertAllowed(db, account, client.ip, now());
      if (!await verifyPassword(user.passwordHash, input.currentPassword)) {
        await inScope(db, actor.tenantId, (tx) => throttle.fail(tx, account, client.ip, now()));
        throw new RequestError('auth.wrong_password');
      }
      await inScope(db, actor.tenantId, async (tx, ttx) => {
        await setPassword(tx, (await usersRepo.get(tx, actor.tenantId, actor.id, true))!, input.newPassword, await policyFor(tx, actor.tenantId), false);
        await sessions.revokeForUser(tx, user.id, actor.sessionId);
        await recordEvent(securityEvents, tx, ttx, { actor, ...client, type: 'password.changed', detail: { userId: user.id, via: 'change' } });
        auditUser(tx, 'user.password_change', actor, user);
      });
    },

    /** Completes a reset (token from an admin, or from a login whose password had expired); every session ends. */
    async completeReset(input: { token: string; newPassword: string }, client: Client) {
      const t = await usableToken(db, input.token, 'password_reset', now());
      await inScope(db, t.tenantId, async (tx, ttx) => {
        const user = await usersRepo.get(tx, t.tenantId, t.userId, true);
        assertThat(user && user.status === 'active', () => new RequestError('auth.token_invalid'));
        await setPassword(tx, user, input.newPassword, await policyFor(tx, t.tenantId), false);
        await useToken(tx, t.hash, now());
        await sessions.revokeForUser(tx, user.id);
        await throttle.succeed(tx, accountKey(user.tenantId, user.emailNorm));
        await recordEvent(securityEvents, tx, ttx, { actor: systemActor('password-reset'), ...client, type: 'password.changed', detail: { userId: user.id, via: 'reset' } });
        auditUser(tx, 'user.password_reset', selfActor(user), user);
      });
    },
  };
}

export type PasswordsService = ReturnType<typeof passwordsServiceFactory>;
