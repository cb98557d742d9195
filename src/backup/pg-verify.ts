import type { Db } from '../db/db.ts';
import { openPostgres } from '../db/postgres-driver.ts';
import type { KeyProvider } from '../crypto/key-provider.ts';
import { BackupError } from './backup-format.ts';
import type { VerificationCheck } from './backup-schemas.ts';
import type { PgManifest } from './pg-manifest.ts';
import { type PgBackRestConfig, type PgBackup, restorePgBackup } from './pgbackrest.ts';
import type { TenantKeks } from '../keys/tenant-keks.ts';
import { auditLogCheck, erasureLedgerCheck, migrationsCheck, pgRowCountsCheck, recordDecryptionCheck } from './restore-checks.ts';
import { scratchDir, startScratchCluster } from './scratch-postgres.ts';

export interface PgVerifyDeps { cfg: PgBackRestConfig; databaseUrl: string; keyProvider: KeyProvider; tenantKeks: TenantKeks; sample: number; backupDir: string }

/** The steps of a pgBackRest restore test, in order (for progress). */
export const PG_VERIFY_STEPS = ['restore', 'start', 'row_counts', 'record_decryption', 'migrations', 'audit_log', 'erasure_ledger'] as const;

/** The user and database of a (possibly multi-host) postgres:// URL: the copy is read as the same user, in the same database. */
export function userAndDatabase(url: string): { user: string; database: string } {
  const m = /^postgres(?:ql)?:\/\/(?:([^:@/]*)(?::[^@/]*)?@)?[^/?]*(?:\/([^?]*))?/.exec(url);
  const user = decodeURIComponent(m?.[1] || 'postgres');
  return { user, database: decodeURIComponent(m?.[2] || user) };
}

// A check that throws (the copy is damaged in a way the database notices only
// when read) fails that check, by SQLSTATE and message: evidence, not a 500.
async function guarded(name: string, run: () => Promise<VerificationCheck>): Promise<VerificationCheck> {
  try { return await run(); } catch (err) {
    const e = err as { code?: string; message?: string };
    return { name, status: 'failed', detail: `${e.code ?? 'error'}: ${(e.message ?? String(err)).split('\n')[0].slice(0, 300)}` };
  }
}

/**
 * Restores pgBackRest backup `backup` into a scratch data dir (to its own stop
 * point, archiving off), starts a throwaway PostgreSQL 15 on it, runs the
 * checks of an embedded restore test as the same database user Tresor uses,
 * then stops and deletes it. The live cluster is never touched.
 */
export async function pgRestoreChecks(deps: PgVerifyDeps, backup: PgBackup, manifest: PgManifest | undefined,
  onStep: (step: typeof PG_VERIFY_STEPS[number]) => void = () => {}): Promise<VerificationCheck[]> {
  const scratch = scratchDir();
  const checks: VerificationCheck[] = [];
  let stop = async () => {};
  let restored: Db | undefined;
  try {
    try {
      onStep('restore');
      await restorePgBackup(deps.cfg, { id: backup.id, to: scratch.data, immediate: true });
      onStep('start');
      const cluster = await startScratchCluster(scratch);
      stop = cluster.stop;
      const { user, database } = userAndDatabase(deps.databaseUrl);
      const url = `postgres://${encodeURIComponent(user)}@localhost:${cluster.port}/${encodeURIComponent(database)}`;
      restored = openPostgres({ url, socketPath: cluster.socketPath, poolMax: 2, connectTimeoutMs: 10_000, statementTimeoutMs: 600_000 });
      await restored.query('select 1');
    } catch (err) {
      if (!(err instanceof BackupError)) throw err;
      checks.push({ name: 'restore', status: 'failed', detail: err.message });
      return checks;
    }
    checks.push({ name: 'restore', status: 'passed',
      detail: `pgbackrest restore --set=${backup.id} --type=immediate (pgBackRest checks every file it restores) and PostgreSQL recovered the copy to the backup's stop point (WAL ${backup.walStop}) and promoted it` });
    const db = restored;
    onStep('row_counts');
    checks.push(await guarded('row_counts', () => pgRowCountsCheck(db, manifest)));
    onStep('record_decryption');
    checks.push(await guarded('record_decryption', () => recordDecryptionCheck(db, deps.tenantKeks, deps.sample)));
    onStep('migrations');
    checks.push(await guarded('migrations', () => migrationsCheck(db, manifest ?? null)));
    onStep('audit_log');
    checks.push(await guarded('audit_log', () => auditLogCheck(db, deps.keyProvider, manifest ?? null)));
    onStep('erasure_ledger');
    checks.push(await guarded('erasure_ledger', () => erasureLedgerCheck(db, deps.keyProvider, deps.backupDir)));
    return checks;
  } finally {
    await restored?.close().catch(() => {});
    await stop();
    scratch.remove();
  }
}
