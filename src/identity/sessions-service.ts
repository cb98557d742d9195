import { v7 as uuidv7 } from 'uuid';
import type { Db, Tx } from '../db/db.ts';
import { RequestError, assertThat } from '../errors.ts';
import type { Actor } from '../access/permissions.ts';
import type { Authenticator } from '../access/authenticate.ts';
import type { Meters } from '../http/metrics.ts';
import { hashToken, newToken, tokenMatches } from './one-time-token.ts';
import { sessionTokenFrom } from './session-cookie.ts';
import { sessionsRepo, type SessionRow } from './sessions-repo.ts';
import type { UserRow } from './users-repo.ts';
import { toBuffer } from '../db/db.ts';
import { auditUser } from './identity-scope.ts';

export interface SessionsDeps { db: Db; now: () => Date; touchIntervalMs: number; meters: Pick<Meters, 'authFailure'> }

export interface Client { ip?: string; userAgent?: string }

export interface NewSession { id: string; token: string; csrfToken: string; expiresAt: Date; idleExpiresAt: Date; maxAgeSeconds: number }

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const idleEnd = (s: Pick<SessionRow, 'lastSeenAt' | 'idleMs'>) => new Date(s.lastSeenAt.getTime() + s.idleMs);

export function publicSession(s: SessionRow, currentId?: string) {
  return { id: s.id, current: s.id === currentId, createdAt: s.createdAt.toISOString(), lastSeenAt: s.lastSeenAt.toISOString(),
    idleExpiresAt: idleEnd(s).toISOString(), expiresAt: s.expiresAt.toISOString(), ip: s.ip, userAgent: s.userAgent };
}

/**
 * Server-side sessions (ASVS V7): an opaque 256-bit token in the cookie,
 * only its hash stored; a CSRF token for cookie-authenticated writes; an
 * idle and an absolute timeout. Every request reads the session row (no
 * cache), so logout, deactivation and role changes end it on the next
 * request in every process.
 */
export function sessionsServiceFactory({ db, now, touchIntervalMs, meters }: SessionsDeps) {
  const refuse = () => { meters.authFailure('session_invalid'); return new RequestError('auth.invalid_credentials'); };

  async function authenticate(token: string, method: string, csrf: string | undefined): Promise<Actor> {
    const s = await sessionsRepo.byHash(db, hashToken(token));
    const at = now();
    assertThat(s && !s.revokedAt && s.expiresAt > at && idleEnd(s) > at, refuse);
    // Double-submit is not enough against a cookie set by a sibling origin;
    // the token is bound to the session server-side instead.
    assertThat(SAFE_METHODS.has(method) || (csrf !== undefined && tokenMatches(csrf, toBuffer(s.csrfHash))), () => new RequestError('auth.csrf_failed'));
    if (at.getTime() - s.lastSeenAt.getTime() >= touchIntervalMs) await sessionsRepo.touch(db, s.id, at);
    return { type: 'user', id: s.userId, name: s.userId, role: s.role, tenantId: s.tenantId, sessionId: s.id };
  }

  return {
    /** The `session` credential of the authenticator chain: the cookie, plus X-CSRF-Token on writes. */
    authenticator: {
      kind: 'session',
      async authenticate({ headers, method }) {
        const token = sessionTokenFrom(headers.cookie);
        if (!token) return undefined;
        const csrf = headers['x-csrf-token'];
        return authenticate(token, method.toUpperCase(), typeof csrf === 'string' ? csrf : undefined);
      },
    } satisfies Authenticator,

    /** A new session for a user who passed both factors (in the caller's transaction). */
    async create(tx: Tx, user: Pick<UserRow, 'id' | 'tenantId' | 'role'>, client: Client, policy: { idleMs: number; absoluteMs: number }): Promise<NewSession> {
      const session = newToken('tses');
      const csrf = newToken('tcsrf');
      const at = now();
      const expiresAt = new Date(at.getTime() + policy.absoluteMs);
      const id = uuidv7();
      await sessionsRepo.insert(tx, {
        id, hash: session.hash, csrfHash: csrf.hash, tenantId: user.tenantId, userId: user.id, role: user.role,
        ip: client.ip ?? null, userAgent: client.userAgent?.slice(0, 300) ?? null, createdAt: at, idleMs: policy.idleMs, expiresAt,
      });
      return { id, token: session.token, csrfToken: csrf.token, expiresAt, idleExpiresAt: new Date(at.getTime() + policy.idleMs),
        maxAgeSeconds: policy.absoluteMs / 1000 };
    },

    async list(actor: Actor) {
      assertThat(actor.type === 'user', () => new RequestError('auth.forbidden', 'Only a user has sessions'));
      return (await sessionsRepo.activeForUser(db, actor.id, now())).filter((s) => idleEnd(s) > now()).map((s) => publicSession(s, actor.sessionId));
    },
    logout: (actor: Actor) => db.transaction(async (tx) => {
      if (actor.type !== 'user') return;
      await sessionsRepo.revoke(tx, actor.sessionId, now());
      auditUser(tx, 'session.end', actor, { id: actor.id, tenantId: actor.tenantId }, { sessionId: actor.sessionId });
    }),
    logoutAll: (actor: Actor) => db.transaction(async (tx) => {
      if (actor.type !== 'user') return;
      await sessionsRepo.revokeForUser(tx, actor.id, now());
      auditUser(tx, 'session.end_all', actor, { id: actor.id, tenantId: actor.tenantId });
    }),
    /** Ends a user's sessions in the caller's transaction (deactivation, role change, 2FA reset, password change). */
    revokeForUser: (tx: Tx, userId: string, except: string | null = null) => sessionsRepo.revokeForUser(tx, userId, now(), except),
  };
}

export type SessionsService = ReturnType<typeof sessionsServiceFactory>;
