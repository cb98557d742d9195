import type { TenantTx } from '../db/db.ts';
import type { Wrapping } from '../keys/tenant-keks.ts';

export interface PseudonymKeyRow { version: number; status: 'active' | 'retiring'; wrapped: Uint8Array; wrapping: Wrapping; retireAfter: Date | null }
export interface MapRow { recordId: string; collectionId: string; field: string; purpose: string; pseudonym: Uint8Array; sealed: Uint8Array }
/** A mapping row to write: pseudonym and sealed value as base64 (they travel as JSON). */
export interface NewMapRow { recordId: string; collectionId: string; field: string; purpose: string; version: number; pseudonym: string; sealed: string }

// The statements run as tresor_pseudonym (asPseudonymRole), the only role with
// grants on these tables, inside a tenant transaction (RLS scopes the rows).
export const pseudonymsRepo = {
  /** Switches the transaction to the pseudonym role for `fn`, and back to the app role after it. */
  async asPseudonymRole<T>(tx: TenantTx, fn: () => Promise<T>): Promise<T> {
    await tx.query("select set_config('role', 'tresor_pseudonym', true)");
    const result = await fn();
    await tx.query("select set_config('role', 'tresor_app', true)");
    return result;
  },

  /** The live key versions (active and retiring); `lock`: share to write mappings, update to rotate. */
  liveKeys: (tx: TenantTx, lock: 'share' | 'update' | null) =>
    tx.query<PseudonymKeyRow>(`select version, status, wrapped, wrapping, retire_after as "retireAfter" from pseudonym_keys
      where status <> 'retired' order by version${lock ? ` for ${lock}` : ''}`),

  /** false when another transaction made this version first. */
  insertKey: async (tx: TenantTx, k: { version: number; wrapped: Buffer; wrapping: Wrapping; kekId: string }) =>
    (await tx.query(`insert into pseudonym_keys (tenant_id, version, wrapped, wrapping, kek_id) values ($1, $2, $3, $4, $5)
      on conflict do nothing returning version`, [tx.tenantId, k.version, k.wrapped, k.wrapping, k.kekId])).length > 0,

  maxVersion: async (tx: TenantTx) =>
    (await tx.query<{ v: number }>('select coalesce(max(version), 0)::int as v from pseudonym_keys'))[0].v,

  setRetiring: (tx: TenantTx, version: number, retireAfter: Date) =>
    tx.query("update pseudonym_keys set status = 'retiring', retire_after = $2 where version = $1", [version, retireAfter]),

  /** Drops the rows of the given fields of a record (every version): their value changed or went. */
  forget: (tx: TenantTx, recordId: string, fields: string[]) =>
    tx.query('delete from pseudonym_map where record_id = $1 and field in (select jsonb_array_elements_text($2::text::jsonb))',
      [recordId, JSON.stringify(fields)]),

  insertRows: (tx: TenantTx, rows: NewMapRow[]) =>
    tx.query(`insert into pseudonym_map (tenant_id, record_id, collection_id, field, purpose, version, pseudonym, sealed)
      select $1, x."recordId", x."collectionId", x.field, x.purpose, x.version, decode(x.pseudonym, 'base64'), decode(x.sealed, 'base64')
      from jsonb_to_recordset($2::text::jsonb) as x("recordId" uuid, "collectionId" uuid, field text, purpose text, version int, pseudonym text, sealed text)
      on conflict (tenant_id, record_id, field, version) do update set purpose = excluded.purpose, pseudonym = excluded.pseudonym, sealed = excluded.sealed`,
      [tx.tenantId, JSON.stringify(rows)]),

  /** One index probe: the first live mapping of this pseudonym under the purpose (and collection, when given). */
  find: async (tx: TenantTx, q: { purpose: string; pseudonym: Buffer; collectionId: string | null; field: string | null }) =>
    (await tx.query<{ version: number; sealed: Uint8Array }>(`select m.version, m.sealed from pseudonym_map m
      join pseudonym_keys k on k.tenant_id = m.tenant_id and k.version = m.version and k.status <> 'retired'
      where m.purpose = $1 and m.pseudonym = $2::bytea and ($3::uuid is null or m.collection_id = $3::uuid) and ($4::text is null or m.field = $4)
      order by m.version desc limit 1`, [q.purpose, q.pseudonym, q.collectionId, q.field]))[0],

  /** A page of a version's rows in (record, field) order, for re-keying under a new version. */
  page: (tx: TenantTx, version: number, after: { recordId: string; field: string } | null, limit: number) =>
    tx.query<MapRow>(`select record_id as "recordId", collection_id as "collectionId", field, purpose, pseudonym, sealed from pseudonym_map
      where version = $1 and ($2::uuid is null or (record_id, field) > ($2::uuid, $3::text)) order by record_id, field limit $4`,
      [version, after?.recordId ?? null, after?.field ?? '', limit]),

  /** Retires a version: its mappings go, and its key is destroyed. */
  async retire(tx: TenantTx, version: number): Promise<number> {
    const gone = await tx.query<{ n: number }>('with d as (delete from pseudonym_map where version = $1 returning 1) select count(*)::int as n from d', [version]);
    await tx.query("update pseudonym_keys set status = 'retired', wrapped = null where version = $1", [version]);
    return gone[0].n;
  },
};
