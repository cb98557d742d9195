import type { Queries } from '../db/db.ts';

export type TokenKind = 'invitation' | 'enrollment' | 'mfa' | 'password_reset';

export interface TokenRow { kind: TokenKind; tenantId: string | null; userId: string; expiresAt: Date; usedAt: Date | null }

const columns = 'kind, tenant_id as "tenantId", user_id as "userId", expires_at as "expiresAt", used_at as "usedAt"';

export const tokensRepo = {
  insert: (tx: Queries, t: { hash: Buffer; kind: TokenKind; tenantId: string | null; userId: string; expiresAt: Date; now: Date }) =>
    tx.query('insert into auth_tokens (hash, kind, tenant_id, user_id, expires_at, created_at) values ($1, $2, $3, $4, $5, $6)',
      [t.hash, t.kind, t.tenantId, t.userId, t.expiresAt, t.now]),
  /** Platform lookup by hash (before the tenant is known): an unused token of this kind that has not expired. */
  findUsable: async (tx: Queries, hash: Buffer, kind: TokenKind, now: Date) =>
    (await tx.query<TokenRow>(`select ${columns} from auth_tokens where hash = $1 and kind = $2 and used_at is null and expires_at > $3`, [hash, kind, now]))[0],
  /** Marks the token used; false when another request used it first (single use under concurrency). */
  use: async (tx: Queries, hash: Buffer, now: Date) =>
    (await tx.query('update auth_tokens set used_at = $2 where hash = $1 and used_at is null and expires_at > $2 returning hash', [hash, now])).length > 0,
  /** Ends a user's outstanding tokens of the given kinds (a new invitation, a 2FA reset, deactivation). */
  revokeForUser: (tx: Queries, userId: string, kinds: TokenKind[], now: Date) =>
    tx.query('update auth_tokens set used_at = $2 where user_id = $1 and used_at is null and kind in (select jsonb_array_elements_text($3::text::jsonb))',
      [userId, now, JSON.stringify(kinds)]),
};
