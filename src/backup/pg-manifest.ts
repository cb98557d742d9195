import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Static } from 'typebox';
import type { Db, Queries } from '../db/db.ts';
import { backupRepo } from './backup-repo.ts';
import type { BackupManifest, TenantRows } from './backup-schemas.ts';

// What `tresor backup create` records next to a pgBackRest backup, so a
// restore test has something to compare against: per-tenant row counts, the
// schema version and the newest signed audit tree head, all read in one
// snapshot just before pgBackRest starts. The counting transaction takes an
// xid of its own and keeps its snapshot: on the restored copy, a verification
// can then tell whether any transaction committed between the count and the
// backup's stop point (then the counts can only be compared approximately).
// Kept as TRESOR_BACKUP_DIR/pgbackrest/<label>.json; the backup carries the
// manifest's id as the pgBackRest annotation `tresor-manifest`.

export interface PgManifest {
  id: string;
  createdAt: string;
  store: 'postgres';
  schemaVersion: number;
  tenants: Static<typeof TenantRows>[];
  auditTreeHead: BackupManifest['auditTreeHead'];
  /** The counting transaction's own xid (xid8 as text) and its snapshot (pg_snapshot as text). */
  counted: { xid: string; snapshot: string };
}

const LABEL = /^[0-9]{8}-[0-9]{6}F(_[0-9]{8}-[0-9]{6}[DI])?$/;
const manifestFile = (backupDir: string, label: string) => {
  if (!LABEL.test(label)) throw new Error(`not a pgBackRest backup label: ${label}`);
  return join(backupDir, 'pgbackrest', `${label}.json`);
};

/** Per-tenant counts under each tenant's own row-level security context, so a database owner that is not a superuser counts the same rows. */
export async function tenantRowCountsScoped(tx: Queries): Promise<Static<typeof TenantRows>[]> {
  const tables = await backupRepo.tenantTables(tx);
  const tenants = await tx.query<{ id: string }>('select id::text as id from tenants order by id');
  const out: Static<typeof TenantRows>[] = [];
  for (const { id } of tenants) {
    await tx.query("select set_config('app.tenant_id', $1, true)", [id]);
    const rows: Record<string, number> = {};
    if (tables.length) {
      const counts = await tx.query<{ table: string; n: number }>(tables.map((t) =>
        `select '${t}' as "table", count(*)::int as n from "${t}" where tenant_id = $1::uuid`).join(' union all '), [id]);
      for (const c of counts) rows[c.table] = c.n;
    }
    out.push({ tenantId: id, rows });
  }
  await tx.query("select set_config('app.tenant_id', '', true)");
  return out;
}

export async function takePgManifest(db: Db, id: string, createdAt: Date): Promise<PgManifest> {
  return db.transaction(async (tx) => {
    await tx.query('set transaction isolation level repeatable read');
    const [counted] = await tx.query<{ xid: string; snapshot: string }>('select pg_current_xact_id()::text as xid, pg_current_snapshot()::text as snapshot');
    return {
      id, createdAt: createdAt.toISOString(), store: 'postgres' as const,
      schemaVersion: Math.max(0, ...(await backupRepo.appliedMigrations(tx)).map((m) => m.version)),
      tenants: await tenantRowCountsScoped(tx),
      auditTreeHead: await backupRepo.latestTreeHead(tx),
      counted,
    };
  });
}

export function writePgManifest(backupDir: string, label: string, manifest: PgManifest): void {
  const path = manifestFile(backupDir, label);
  mkdirSync(join(backupDir, 'pgbackrest'), { recursive: true, mode: 0o700 });
  writeFileSync(`${path}.partial`, `${JSON.stringify({ label, ...manifest }, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${path}.partial`, path);
}

/** The manifest taken with backup `label`, if `tresor backup create` made it (and it is the one the backup's annotation names). */
export function readPgManifest(backupDir: string, label: string, manifestId: string | null): PgManifest | undefined {
  if (!manifestId) return undefined;
  try {
    const m = JSON.parse(readFileSync(manifestFile(backupDir, label), 'utf8')) as PgManifest;
    return m.id === manifestId ? m : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
