import type { Queries } from '../db/db.ts';
import { toBuffer } from '../db/db.ts';
import type { BackupManifest, TenantRows } from './backup-schemas.ts';
import type { Static } from 'typebox';

// What a backup's manifest records and a verification compares. On the
// embedded store the session user is PGlite's superuser, to whom row-level
// security does not apply: the counts cover every tenant's rows at once.

/** Every table with a tenant_id column: tables added by later migrations are counted without a change here. */
async function tenantTables(tx: Queries): Promise<string[]> {
  const rows = await tx.query<{ table: string }>(`select c.table_name as "table" from information_schema.columns c
    join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
    where c.table_schema = 'public' and c.column_name = 'tenant_id' and t.table_type = 'BASE TABLE' order by 1`);
  return rows.map((r) => r.table);
}

export const backupRepo = {
  tenantTables,

  async tenantRowCounts(tx: Queries): Promise<Static<typeof TenantRows>[]> {
    const tenants = await tx.query<{ id: string }>('select id::text as id from tenants order by id');
    const byTenant = new Map(tenants.map((t) => [t.id, {} as Record<string, number>]));
    for (const table of await tenantTables(tx)) {
      for (const t of byTenant.values()) t[table] = 0;
      const counts = await tx.query<{ tenantId: string; n: number }>(
        `select tenant_id::text as "tenantId", count(*)::int as n from "${table}" where tenant_id is not null group by 1`);
      for (const c of counts) { const t = byTenant.get(c.tenantId); if (t) t[table] = c.n; }
    }
    return [...byTenant].map(([tenantId, rows]) => ({ tenantId, rows }));
  },

  async appliedMigrations(tx: Queries): Promise<{ version: number; name: string }[]> {
    return tx.query('select version, name from schema_migrations order by version');
  },

  async passphraseSalt(tx: Queries): Promise<Buffer | null> {
    const [row] = await tx.query<{ salt: Uint8Array | null }>('select salt from root_key');
    return row?.salt ? toBuffer(row.salt) : null;
  },

  /** The newest signed audit tree head, or null while the store has no audit log. */
  async latestTreeHead(tx: Queries): Promise<BackupManifest['auditTreeHead']> {
    const [exists] = await tx.query<{ t: string | null }>("select to_regclass('public.audit_tree_heads')::text as t");
    if (!exists?.t) return null;
    const [head] = await tx.query<{ treeSize: string; rootHash: Uint8Array; timestampMs: string; signature: Uint8Array; keyId: string }>(
      `select tree_size::text as "treeSize", root_hash as "rootHash", timestamp_ms::text as "timestampMs", signature, key_id as "keyId"
       from audit_tree_heads order by tree_size desc limit 1`);
    return head ? { treeSize: Number(head.treeSize), rootHash: toBuffer(head.rootHash).toString('base64'), timestampMs: Number(head.timestampMs),
      signature: toBuffer(head.signature).toString('base64'), keyId: head.keyId } : null;
  },
};
