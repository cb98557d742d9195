import type { TenantTx, Queries, Tx } from '../db/db.ts';
import type { KeyPurpose } from '../crypto/keyring.ts';
import type { Wrapping } from './tenant-keks.ts';

export interface TenantKeyRow { purpose: KeyPurpose; version: number; wrapped: Uint8Array; wrapping: Wrapping; kekId: string; status: string; createdAt: Date }

// Every call runs inside withTenant(): RLS scopes the rows to the tenant.
export const keysRepo = {
  insert: (tx: TenantTx, k: { tenantId: string; purpose: KeyPurpose; version: number; wrapped: Buffer; wrapping: Wrapping; kekId: string }) =>
    tx.query('insert into tenant_keys (tenant_id, purpose, version, wrapped, wrapping, kek_id) values ($1, $2, $3, $4, $5, $6)',
      [k.tenantId, k.purpose, k.version, k.wrapped, k.wrapping, k.kekId]),
  /** A tenant made with per-tenant KEKs needs no start-up re-wrap (platform column, set in the tenant's transaction). */
  markTenantKek: (tx: TenantTx) => tx.query('update tenants set tenant_kek_at = now() where id = $1', [tx.tenantId]),
  list: (tx: TenantTx) =>
    tx.query<TenantKeyRow>(`select purpose, version, wrapped, wrapping, kek_id as "kekId", status, created_at as "createdAt"
      from tenant_keys order by purpose, version`),
  /** Locks the tenant's data key rows so two rotations cannot interleave. */
  lockData: (tx: TenantTx) =>
    tx.query<{ version: number; status: string }>("select version, status from tenant_keys where purpose = 'data' order by version for update"),
  setStatus: (tx: TenantTx, purpose: KeyPurpose, versions: number[], status: string) =>
    tx.query(`update tenant_keys set status = $1 where purpose = $2
      and version in (select jsonb_array_elements_text($3::text::jsonb)::int)`, [status, purpose, JSON.stringify(versions)]),
  /** Marks the tenant as having records for the re-encryption job (platform column, set in the tenant's transaction). */
  requestReencrypt: (tx: TenantTx) =>
    tx.query('update tenants set reencrypt_requested_at = now() where id = $1', [tx.tenantId]),
  /** Clears the mark unless a newer request came in meanwhile. */
  clearReencrypt: (tx: TenantTx, since: Date) =>
    // Milliseconds: `since` went through a JS Date; the column keeps microseconds.
    tx.query("update tenants set reencrypt_requested_at = null where id = $1 and date_trunc('milliseconds', reencrypt_requested_at) <= $2",
      [tx.tenantId, since]),
  /** Platform query for the job: tenants with re-encryption work, oldest request first (a closed tenant is frozen: it waits for reopening). */
  pendingReencrypt: (db: Queries) =>
    db.query<{ id: string; since: Date }>(`select id, reencrypt_requested_at as since from tenants
      where reencrypt_requested_at is not null and status = 'active' order by reencrypt_requested_at`),
  unreadable: (tx: TenantTx, limit: number) =>
    tx.query<{ id: string; collection: string }>(`select r.id, c.name as collection from records r
      join collections c on c.tenant_id = r.tenant_id and c.id = r.collection_id
      where r.unreadable_at is not null order by r.id limit $1`, [limit]),
  /** Deletes a record set aside as unreadable; false when no such record is set aside. */
  discardUnreadable: async (tx: TenantTx, id: string) =>
    (await tx.query('delete from records where id = $1 and unreadable_at is not null returning id', [id])).length > 0,
  countByVersion: (tx: TenantTx) =>
    tx.query<{ version: number; n: number; unsealed: number }>(`select key_version as version, count(*)::int as n,
      count(*) filter (where sealed is null)::int as unsealed from records group by key_version`),
};
