import type { TenantTx } from '../db/db.ts';
import type { KeyPurpose } from '../crypto/keyring.ts';

export interface TenantKeyRow { purpose: KeyPurpose; version: number; wrapped: Uint8Array; kekId: string; status: string; createdAt: Date }

// Every call runs inside withTenant(): RLS scopes the rows to the tenant.
export const keysRepo = {
  insert: (tx: TenantTx, k: { tenantId: string; purpose: KeyPurpose; version: number; wrapped: Buffer; kekId: string }) =>
    tx.query('insert into tenant_keys (tenant_id, purpose, version, wrapped, kek_id) values ($1, $2, $3, $4, $5)',
      [k.tenantId, k.purpose, k.version, k.wrapped, k.kekId]),
  list: (tx: TenantTx) =>
    tx.query<TenantKeyRow>(`select purpose, version, wrapped, kek_id as "kekId", status, created_at as "createdAt"
      from tenant_keys order by purpose, version`),
  /** Locks the tenant's data key rows so two rotations cannot interleave. */
  lockData: (tx: TenantTx) =>
    tx.query<{ version: number; status: string }>("select version, status from tenant_keys where purpose = 'data' order by version for update"),
  setStatus: (tx: TenantTx, purpose: KeyPurpose, versions: number[], status: string) =>
    tx.query(`update tenant_keys set status = $1 where purpose = $2
      and version in (select jsonb_array_elements_text($3::text::jsonb)::int)`, [status, purpose, JSON.stringify(versions)]),
  countByVersion: (tx: TenantTx) =>
    tx.query<{ version: number; n: number }>('select key_version as version, count(*)::int as n from records group by key_version'),
};
