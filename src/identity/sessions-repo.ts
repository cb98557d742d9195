import type { Queries } from '../db/db.ts';
import type { Role } from '../access/permissions.ts';

export interface SessionRow {
  id: string; hash: Uint8Array; csrfHash: Uint8Array; tenantId: string | null; userId: string; role: Role;
  ip: string | null; userAgent: string | null; createdAt: Date; lastSeenAt: Date; idleMs: number; expiresAt: Date; revokedAt: Date | null;
}

const columns = `id, hash, csrf_hash as "csrfHash", tenant_id as "tenantId", user_id as "userId", role, ip, user_agent as "userAgent",
  created_at as "createdAt", last_seen_at as "lastSeenAt", idle_ms as "idleMs", expires_at as "expiresAt", revoked_at as "revokedAt"`;

export const sessionsRepo = {
  insert: (tx: Queries, s: Omit<SessionRow, 'revokedAt' | 'lastSeenAt'>) =>
    tx.query(
      `insert into sessions (id, hash, csrf_hash, tenant_id, user_id, role, ip, user_agent, created_at, last_seen_at, idle_ms, expires_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11)`,
      [s.id, s.hash, s.csrfHash, s.tenantId, s.userId, s.role, s.ip, s.userAgent, s.createdAt, s.idleMs, s.expiresAt],
    ),
  /** Platform lookup by hash, on every session-authenticated request (no cache: a revocation counts at once). */
  byHash: async (tx: Queries, hash: Buffer) =>
    (await tx.query<SessionRow>(`select ${columns} from sessions where hash = $1`, [hash]))[0],
  touch: (tx: Queries, id: string, now: Date) => tx.query('update sessions set last_seen_at = $2 where id = $1 and last_seen_at < $2', [id, now]),
  activeForUser: (tx: Queries, userId: string, now: Date) =>
    tx.query<SessionRow>(`select ${columns} from sessions where user_id = $1 and revoked_at is null and expires_at > $2 order by created_at desc, id`, [userId, now]),
  revoke: (tx: Queries, id: string, now: Date) => tx.query('update sessions set revoked_at = $2 where id = $1 and revoked_at is null', [id, now]),
  /** Ends every session of the user (but `except`): deactivation, role change, 2FA reset, password change. */
  revokeForUser: (tx: Queries, userId: string, now: Date, except: string | null = null) =>
    tx.query('update sessions set revoked_at = $2 where user_id = $1 and revoked_at is null and id is distinct from $3::uuid', [userId, now, except]),
};
