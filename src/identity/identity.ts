import type { Config } from '../config.ts';
import type { Db } from '../db/db.ts';
import type { KeyProvider } from '../crypto/key-provider.ts';
import type { KeysService } from '../keys/keys-service.ts';
import type { Meters } from '../http/metrics.ts';
import type { SecurityEventsSeam } from './identity-scope.ts';
import { sessionsServiceFactory } from './sessions-service.ts';
import { throttleServiceFactory } from './throttle-service.ts';
import { totpSecretsFactory } from './totp-secrets.ts';
import { passwordsServiceFactory } from './passwords-service.ts';
import { authServiceFactory } from './auth-service.ts';
import { usersServiceFactory } from './users-service.ts';
import { authPolicyServiceFactory } from './auth-policy-service.ts';

export interface IdentityDeps {
  db: Db; keyProvider: KeyProvider; keys: Pick<KeysService, 'ringFor'>; now: () => Date; meters: Pick<Meters, 'authFailure'>; securityEvents: SecurityEventsSeam;
}

const MINUTE = 60_000;

/** The identity feature's services, wired from config once. */
export function createIdentity(config: Config, { db, keyProvider, keys, now, meters, securityEvents }: IdentityDeps) {
  const argon2 = { memoryKiB: config.argon2MemoryKiB, iterations: config.argon2Iterations, parallelism: config.argon2Parallelism };
  const platformPolicy = {
    password: { minLength: config.passwordMinLength, maxLength: config.passwordMaxLength, composition: config.passwordComposition === 'on',
      maxAgeDays: config.passwordMaxAgeDays, history: config.passwordHistory },
    sessionIdleMinutes: config.sessionIdleMinutes, sessionAbsoluteMinutes: config.sessionAbsoluteMinutes,
  };
  const loginStepTtlMs = config.loginStepTtlMinutes * MINUTE;
  const sessions = sessionsServiceFactory({ db, now, touchIntervalMs: config.sessionTouchIntervalMs, meters });
  const throttle = throttleServiceFactory({ limits: { lockThreshold: config.loginLockThreshold, lockMs: config.loginLockMinutes * MINUTE,
    maxPerHour: config.loginMaxFailuresPerHour, maxPerIpHour: config.loginMaxFailuresPerIpHour } });
  const passwords = passwordsServiceFactory({ db, now, argon2, platformPolicy, loginStepTtlMs, sessions, throttle, securityEvents });
  const auth = authServiceFactory({ db, now, argon2, loginStepTtlMs, issuer: 'Tresor', sessions, throttle,
    totpSecrets: totpSecretsFactory({ keys, keyProvider }), passwords, securityEvents });
  const users = usersServiceFactory({ db, now, invitationTtlMs: config.invitationTtlMinutes * MINUTE,
    passwordResetTtlMs: config.passwordResetTtlMinutes * MINUTE, sessions, securityEvents });
  const authPolicy = authPolicyServiceFactory({ db, now, platformPolicy, securityEvents });
  return { sessions, passwords, auth, users, authPolicy };
}

export type Identity = ReturnType<typeof createIdentity>;
