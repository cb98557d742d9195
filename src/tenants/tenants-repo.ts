import type { Queries, Tx } from '../db/db.ts';

export interface TenantRow {
  id: string; name: string; status: 'active' | 'closed' | 'purged'; createdAt: Date;
  closedAt: Date | null; purgeAfter: Date | null; keysDestroyedAt: Date | null; purgedAt: Date | null;
}
const columns = `id, name, status, created_at as "createdAt", closed_at as "closedAt", purge_after as "purgeAfter",
  keys_destroyed_at as "keysDestroyedAt", purged_at as "purgedAt"`;

export const tenantsRepo = {
  insert: async (tx: Tx, t: { id: string; name: string }) =>
    (await tx.query<TenantRow>(`insert into tenants (id, name) values ($1, $2) returning ${columns}`, [t.id, t.name]))[0],
  find: async (tx: Queries, id: string) =>
    (await tx.query<TenantRow>(`select ${columns} from tenants where id = $1`, [id]))[0],
  /** The row, locked until the transaction ends: closing, reopening and the purge never interleave. */
  lock: async (tx: Tx, id: string) =>
    (await tx.query<TenantRow>(`select ${columns} from tenants where id = $1 for update`, [id]))[0],
  list: (tx: Queries, after: string | null, limit: number) =>
    tx.query<TenantRow>(`select ${columns} from tenants where ($1::uuid is null or id > $1::uuid) order by id limit $2`, [after, limit]),
  listIds: (tx: Queries) => tx.query<{ id: string }>('select id from tenants order by id'),
  close: async (tx: Tx, id: string, closedAt: Date, purgeAfter: Date) =>
    (await tx.query<TenantRow>(`update tenants set status = 'closed', closed_at = $2, purge_after = $3 where id = $1 returning ${columns}`,
      [id, closedAt, purgeAfter]))[0],
  reopen: async (tx: Tx, id: string) =>
    (await tx.query<TenantRow>(`update tenants set status = 'active' where id = $1 returning ${columns}`, [id]))[0],
  /** Closed tenants whose retention period has ended, oldest first. */
  duePurge: async (tx: Queries, asOf: Date) =>
    (await tx.query<{ id: string }>(`select id::text as id from tenants where status = 'closed' and purge_after <= $1 order by purge_after, id`, [asOf]))
      .map((r) => r.id),
};
