import type { Queries, Tx } from '../db/db.ts';
import { toBuffer } from '../db/db.ts';
import type { Role } from '../access/permissions.ts';

export interface ApiKeyRow {
  id: string; tenantId: string | null; name: string; role: Role; prefix: string;
  createdAt: Date; lastUsedAt: Date | null; revokedAt: Date | null;
  /** null: every collection of the tenant. */
  collections: string[] | null; expiresAt: Date | null;
  /** null: whatever the collection serves. */
  purposes: string[] | null;
}

const columns = `id, tenant_id as "tenantId", name, role, prefix, created_at as "createdAt",
  last_used_at as "lastUsedAt", revoked_at as "revokedAt", collections, expires_at as "expiresAt", purposes`;

export const apiKeysRepo = {
  insert: async (tx: Tx, k: {
    id: string; tenantId: string | null; name: string; role: Role; prefix: string; hash: Buffer;
    collections?: readonly string[] | null; expiresAt?: Date | null; purposes?: readonly string[] | null;
  }) =>
    (await tx.query<ApiKeyRow>(
      `insert into api_keys (id, tenant_id, name, role, prefix, hash, collections, expires_at, purposes)
       values ($1, $2, $3, $4, $5, $6, $7::text::jsonb, $8, $9::text::jsonb) returning ${columns}`,
      [k.id, k.tenantId, k.name, k.role, k.prefix, k.hash, k.collections ? JSON.stringify(k.collections) : null, k.expiresAt ?? null,
        k.purposes ? JSON.stringify(k.purposes) : null],
    ))[0],
  findByHash: async (tx: Queries, hash: Buffer) => {
    const rows = await tx.query<ApiKeyRow & { hash: Uint8Array }>(`select ${columns}, hash from api_keys where hash = $1`, [hash]);
    return rows[0] ? { ...rows[0], hash: toBuffer(rows[0].hash) } : undefined;
  },
  listForTenant: (tx: Queries, tenantId: string | null) =>
    tx.query<ApiKeyRow>(
      `select ${columns} from api_keys where tenant_id is not distinct from $1 order by created_at, id`, [tenantId],
    ),
  revoke: async (tx: Tx, tenantId: string | null, id: string) =>
    (await tx.query<{ id: string }>(
      'update api_keys set revoked_at = coalesce(revoked_at, now()) where id = $1 and tenant_id is not distinct from $2 returning id',
      [id, tenantId],
    )).length > 0,
  touch: (tx: Queries, id: string) => tx.query('update api_keys set last_used_at = now() where id = $1', [id]),
  /** Operator keys ever made, revoked ones included. */
  countOperatorsEver: async (tx: Queries) =>
    (await tx.query<{ n: number }>("select count(*)::int as n from api_keys where role = 'operator'"))[0].n,
  /** The active operator keys, locked, so two revokes cannot each leave the other as the last. */
  lockActiveOperators: (tx: Tx) =>
    tx.query<{ id: string }>("select id from api_keys where role = 'operator' and revoked_at is null for update"),
};
