import type { Db } from '../db/db.ts';
import { toBuffer } from '../db/db.ts';
import { listMigrations, migrate } from '../db/migrate.ts';
import type { KeyProvider } from '../crypto/key-provider.ts';
import { keysServiceFactory } from '../keys/keys-service.ts';
import type { TenantKeks } from '../keys/tenant-keks.ts';
import { decodeRecord } from '../records/record-codec.ts';
import { backupRepo } from './backup-repo.ts';
import { signingKeyFor } from '../crypto/signing.ts';
import { verifyLog } from '../audit/merkle/verify.ts';
import { AUDIT_SIGNING_PURPOSE } from '../audit/merkle/tree-head.ts';
import type { BackupManifest, VerificationCheck } from './backup-schemas.ts';
import { LEDGER_SIGNING_PURPOSE, LedgerError, findableAfterReapply, ledgerFile, reapplyLedger } from '../subject-rights/erasure-ledger.ts';
import { type PgManifest, tenantRowCountsScoped } from './pg-manifest.ts';

// The checks a restore verification runs on the restored store, in order.
// Each says what it found; only `passed` counts as a pass. Steps that cannot
// run yet say so (skipped / not applicable) and never claim success.

const check = (name: string, status: VerificationCheck['status'], detail: string): VerificationCheck => ({ name, status, detail });

/** The applied migrations are ones this Tresor knows, by number and name, and the pending ones apply. */
export async function migrationsCheck(restored: Db, manifest: Pick<BackupManifest, 'schemaVersion'> | null): Promise<VerificationCheck> {
  const applied = await backupRepo.appliedMigrations(restored);
  const known = new Map(listMigrations().map((m) => [m.version, m.name]));
  const strange = applied.filter((m) => known.get(m.version) !== m.name);
  if (strange.length) return check('migrations', 'failed', `unknown migrations in the backup: ${strange.map((m) => `${m.version}_${m.name}`).join(', ')}`);
  const top = Math.max(0, ...applied.map((m) => m.version));
  if (manifest && top !== manifest.schemaVersion) return check('migrations', 'failed', `schema version ${top}, the manifest says ${manifest.schemaVersion}`);
  const pending = await migrate(restored);
  return check('migrations', 'passed', `schema version ${top}${manifest ? '' : ' (no manifest to compare with)'}; ${pending.length} newer migration(s) applied cleanly on the restored copy`);
}

type Counts = Awaited<ReturnType<typeof backupRepo.tenantRowCounts>>;

/** The differences between counted and restored rows per tenant and table (empty: equal). */
function countDifferences(expected: Counts, restored: Counts): string[] {
  const actual = new Map(restored.map((t) => [t.tenantId, t.rows]));
  const wrong: string[] = [];
  for (const t of expected) {
    const rows = actual.get(t.tenantId);
    if (!rows) { wrong.push(`tenant ${t.tenantId} missing`); continue; }
    for (const [table, n] of Object.entries(t.rows)) if ((rows[table] ?? 0) !== n) wrong.push(`tenant ${t.tenantId} ${table}: ${rows[table] ?? 0} rows, manifest ${n}`);
    actual.delete(t.tenantId);
  }
  for (const id of actual.keys()) wrong.push(`tenant ${id} not in the manifest`);
  return wrong;
}
const totalRows = (c: Counts) => c.reduce((n, t) => n + Object.values(t.rows).reduce((a, b) => a + b, 0), 0);

/** Rows per tenant and table, exactly as the manifest recorded them when the snapshot was taken. */
export async function rowCountsCheck(restored: Db, manifest: BackupManifest): Promise<VerificationCheck> {
  const wrong = countDifferences(manifest.tenants, await backupRepo.tenantRowCounts(restored));
  return wrong.length ? check('row_counts', 'failed', wrong.slice(0, 10).join('; '))
    : check('row_counts', 'passed', `${manifest.tenants.length} tenant(s), ${totalRows(manifest.tenants)} tenant rows, as in the manifest`);
}

/** Past this many xids between the count and the restored copy's end, commits in between are not counted one by one. */
const XID_SCAN_MAX = 1_000_000;

/**
 * A pgBackRest backup: the manifest's counts were read just before the backup
 * started, the restored copy holds the state at the backup's stop point. The
 * comparison is exact only when no transaction other than the count's own
 * committed in between: every xid the count's snapshot did not see (in
 * progress then, or assigned after) is looked up in the restored copy's
 * commit log. Run it first, before any check writes to the copy.
 */
export async function pgRowCountsCheck(restored: Db, manifest: PgManifest | undefined): Promise<VerificationCheck> {
  if (!manifest) return check('row_counts', 'skipped', 'no Tresor manifest for this backup (made outside `tresor backup create`): nothing to compare with');
  const [{ xmax }] = await restored.query<{ xmax: string }>('select pg_snapshot_xmax(pg_current_snapshot())::text as xmax');
  const { xid, snapshot } = manifest.counted;
  const span = BigInt(xmax) - BigInt(snapshot.split(':')[1]);
  let since: number | null = null;
  if (span <= BigInt(XID_SCAN_MAX)) {
    const [row] = await restored.query<{ n: number }>(`with unseen as (
        select x from pg_snapshot_xip($1::pg_snapshot) x
        union select g::text::xid8 from generate_series(pg_snapshot_xmax($1::pg_snapshot)::text::bigint, $2::bigint - 1) g)
      select count(*)::int as n from unseen where x <> $3::xid8 and pg_xact_status(x) = 'committed'`, [snapshot, xmax, xid]);
    since = row.n;
  }
  const counts = await restored.transaction((tx) => tenantRowCountsScoped(tx));
  const wrong = countDifferences(manifest.tenants, counts);
  const what = `${manifest.tenants.length} tenant(s), ${totalRows(manifest.tenants)} tenant rows`;
  if (since === 0) {
    return wrong.length ? check('row_counts', 'failed', `no transaction committed between the count and the backup's stop point, yet: ${wrong.slice(0, 10).join('; ')}`)
      : check('row_counts', 'passed', `${what}, exactly as counted: no transaction committed between the count and the backup's stop point`);
  }
  const between = since === null ? `more than ${XID_SCAN_MAX} transaction ids were assigned` : `${since} transaction(s) committed`;
  const missing = wrong.filter((w) => w.endsWith(' missing'));
  if (missing.length) return check('row_counts', 'failed', `${missing.slice(0, 10).join('; ')} (approximate comparison: ${between} between the count and the backup's stop point)`);
  return wrong.length
    ? check('row_counts', 'skipped', `approximate only, not verified: ${between} between the count and the backup's stop point; every counted tenant is present; differences: ${wrong.slice(0, 10).join('; ')}`)
    : check('row_counts', 'passed', `${what}, equal to the manifest; approximate comparison: ${between} between the count and the backup's stop point, none changed these counts`);
}

interface SampleRow { id: string; collectionId: string; keyVersion: number; enc: Record<string, string>; plain: Record<string, unknown>; sealed: Uint8Array | null }

/**
 * Unwraps each tenant's keys with the configured root key and tenant secrets
 * and decrypts a random sample of its records. A tenant whose secret was
 * destroyed since the backup (purged: crypto-shredded) is reported as such,
 * not as a failure: that it no longer decrypts is the point.
 */
export async function recordDecryptionCheck(restored: Db, tenantKeks: TenantKeks, sample: number): Promise<VerificationCheck> {
  const keys = keysServiceFactory({ db: restored, tenantKeks, keyCacheMax: 1, keyCacheTtlMs: 1 });
  const tenants = await restored.query<{ id: string }>('select id::text as id from tenants order by id');
  let decrypted = 0;
  const failures: string[] = [];
  const shredded: string[] = [];
  for (const { id: tenantId } of tenants) {
    await restored.withTenant(tenantId, async (tx) => {
      const rows = await tx.query<SampleRow>(`select id::text as id, collection_id::text as "collectionId", key_version as "keyVersion", enc, plain, sealed
        from records where unreadable_at is null order by random() limit $1`, [sample]);
      if (!rows.length) return;
      try {
        const ring = await keys.freshRing(tx, tenantId);
        for (const row of rows) {
          decodeRecord(ring, { tenantId, collectionId: row.collectionId, recordId: row.id }, { ...row, sealed: row.sealed ? toBuffer(row.sealed) : null });
          decrypted++;
        }
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'tenant.keys_destroyed') shredded.push(tenantId);
        else failures.push(`tenant ${tenantId}: ${code ?? 'error'}`);
      }
    });
  }
  const shreddedNote = shredded.length ? `; ${shredded.length} tenant(s) shredded since the backup (keys destroyed, nothing of them decrypts, as intended): ${shredded.slice(0, 10).join(', ')}` : '';
  return failures.length ? check('record_decryption', 'failed', failures.slice(0, 10).join('; ') + shreddedNote)
    : check('record_decryption', 'passed', `${decrypted} record(s) decrypted across ${tenants.length - shredded.length} tenant(s) (up to ${sample} each)${shreddedNote}`);
}

/**
 * `tresor audit verify` on the restored copy: the whole tree recomputed from
 * its entries, every stored head's signature (key derived from the root key),
 * and the head the manifest recorded at backup time must match the log.
 */
export async function auditLogCheck(restored: Db, keyProvider: KeyProvider, manifest: Pick<BackupManifest, 'auditTreeHead'> | null): Promise<VerificationCheck> {
  const [row] = await restored.query<{ t: string | null }>("select to_regclass('public.audit_log')::text as t");
  if (!row?.t) return check('audit_log', 'skipped', 'audit log not present');
  const h = manifest?.auditTreeHead ?? null;
  const saved = h ? { treeSize: h.treeSize, rootHash: Buffer.from(h.rootHash, 'base64'), timestampMs: h.timestampMs, signature: Buffer.from(h.signature, 'base64'), keyId: h.keyId } : undefined;
  const report = await verifyLog(restored, signingKeyFor(keyProvider, AUDIT_SIGNING_PURPOSE).publicKey, { saved });
  if (report.firstBad) return check('audit_log', 'failed', `seq ${report.firstBad.seq}: ${report.firstBad.reason}`);
  return check('audit_log', 'passed', `${report.entries} sequenced entries and ${report.heads} signed head(s) verified` +
    (h ? `; the log matches the manifest's tree head of size ${h.treeSize}` : manifest ? '; the manifest recorded no tree head yet' : '; no manifest with a tree head to compare with'));
}

/**
 * Re-applies the erasure ledger (TRESOR_BACKUP_DIR/erasure-ledger.ndjson, kept
 * outside any snapshot) to the restored copy, as a restored store does before
 * its first request, then checks that no ledger subject is findable: no erased
 * record id is present, and no record matches an entry re-applied now.
 * Needs the schema migrated (runs after the migrations check).
 */
export async function erasureLedgerCheck(restored: Db, keyProvider: KeyProvider, backupDir: string): Promise<VerificationCheck> {
  const key = signingKeyFor(keyProvider, LEDGER_SIGNING_PURPOSE);
  try {
    const report = await reapplyLedger(restored, { backupDir, key });
    const left = await findableAfterReapply(restored, report, key);
    if (left.findable) return check('erasure_ledger', 'failed', `${left.findable} record(s) of erased subjects still present after re-applying the ledger`);
    return check('erasure_ledger', 'passed', `${report.entries} ledger entr${report.entries === 1 ? 'y' : 'ies'} in ${ledgerFile(backupDir)}, `
      + `${report.reapplied.length} re-applied to the copy (${report.deleted} record(s) deleted); none of the ${left.entries} erased subject(s) findable`);
  } catch (err) {
    if (err instanceof LedgerError) return check('erasure_ledger', 'failed', err.message);
    throw err;
  }
}
