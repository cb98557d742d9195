import { join, resolve } from 'node:path';
import type { Backup, BackupVerification } from '../client/index.ts';
import type { Config } from '../config.ts';
import { createApiClient, resolveRemote } from './api-client.ts';
import { CliError, exitCodes, printResult } from './output.ts';
import { type Progress, startProgress } from './progress.ts';
import type { RemoteOptions } from './remote-commands.ts';
import type { KeyProvider } from '../crypto/key-provider.ts';
import { signingKeyFor } from '../crypto/signing.ts';
import { migrate } from '../db/migrate.ts';
import { LEDGER_SIGNING_PURPOSE, reapplyLedger } from '../subject-rights/erasure-ledger.ts';

// `tresor backup …`. create, list and verify ask the running server (it owns
// the embedded store); restore reads TRESOR_BACKUP_DIR itself and writes a
// new data dir, so it works with the server stopped or gone.

/** pgBackRest when TRESOR_PGBACKREST_STANZA is set (PostgreSQL), else undefined: the embedded store's own backups. */
async function pgBackRest() {
  const { loadConfig } = await import('../config.ts');
  const config = loadConfig();
  if (!config.pgbackrestStanza) return undefined;
  const pg = await import('../backup/pgbackrest.ts');
  return { config, cfg: pg.pgBackRestConfig(config)!, ...pg };
}

/**
 * The row counts and audit tree head that a restore test of this pgBackRest
 * backup compares against, read from the database (DATABASE_URL) just before
 * pgBackRest starts. Without DATABASE_URL there is none; the backup is still made.
 */
async function takePgManifest(config: Config) {
  if (!config.databaseUrl) return undefined;
  const [{ openDb }, { takePgManifest: take }, { newBackupId }] = await Promise.all([
    import('../db/open-db.ts'), import('../backup/pg-manifest.ts'), import('../backup/backup-service.ts')]);
  const db = await openDb(config);
  try { return await take(db, newBackupId(new Date()), new Date()); } finally { await db.close(); }
}

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
const rows = (b: Backup) => b.tenants.reduce((n, t) => n + (t.rows.records ?? 0), 0);

async function retryUnreachable<T>(call: () => Promise<T>, tries = 20): Promise<T> {
  for (let n = 1; ; n++) {
    try { return await call(); } catch (err) {
      if (n >= tries || (err as CliError).code !== 'cli.unreachable') throw err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/** The new backup's id alone on the last line, for scripts: `id=$(tresor backup create | tail -1)`. */
export async function createBackup(o: RemoteOptions & { type: 'full' | 'diff' }): Promise<number> {
  const pg = await pgBackRest();
  if (pg) {
    const manifest = await takePgManifest(pg.config);
    if (!o.json) process.stderr.write(`pgbackrest --stanza=${pg.cfg.stanza} --type=${o.type} backup…\n`);
    const b = await pg.createPgBackup(pg.cfg, o.type, manifest?.id);
    if (manifest) (await import('../backup/pg-manifest.ts')).writePgManifest(pg.config.backupDir, b.id, manifest);
    printResult(!!o.json, b, `pgBackRest ${b.type} backup, ${mib(b.sizeBytes)} in the repository${manifest ? '' : ' (no Tresor manifest: DATABASE_URL is not set)'}\n${b.id}`);
    return exitCodes.done;
  }
  const api = createApiClient(resolveRemote(o));
  let run = await api.createBackup();
  // The bar starts once the snapshot is taken (its size is the total): encryption and writing follow it.
  let progress: Progress | undefined;
  try {
    while (run.status === 'running') {
      await new Promise((r) => setTimeout(r, 500));
      // While the snapshot is copied the embedded server's event loop is busy for a while, and it may drop
      // a status request that waited too long (headers timeout): ask again, a few times.
      run = await retryUnreachable(() => api.backupStatus(run.id));
      if (run.bytesTotal && !progress) progress = startProgress({ label: `backup ${run.id}`, unit: 'bytes', total: run.bytesTotal, everyMs: o.progressEvery * 1000 });
      progress?.update(run.bytesDone);
    }
  } finally { progress?.stop(); }
  if (run.status === 'failed' || !run.backup) throw new CliError('cli.failed', `backup ${run.id} failed: ${run.error?.code}: ${run.error?.detail}`, { backupId: run.id, error: run.error });
  const b = run.backup;
  printResult(!!o.json, b, `backup of ${b.tenants.length} tenant(s), ${rows(b)} record(s), ${mib(b.sizeBytes)} encrypted\n${b.id}`);
  return exitCodes.done;
}

/** With --json: the array itself, newest first ([{id, createdAt, sizeBytes, …}]). */
export async function listBackups(o: RemoteOptions): Promise<number> {
  const pg = await pgBackRest();
  if (pg) {
    const items = await pg.listPgBackups(pg.cfg);
    printResult(!!o.json, items, items.length ? items.map((b) => `${b.id}  ${b.type.padEnd(4)}  ${b.createdAt}  ${mib(b.sizeBytes).padStart(10)}`).join('\n') : 'no backups');
    return exitCodes.done;
  }
  const { items } = await createApiClient(resolveRemote(o)).listBackups();
  const text = items.length ? items.map((b) => `${b.id}  ${b.createdAt}  ${mib(b.sizeBytes).padStart(10)}  ${rows(b)} record(s)`).join('\n') : 'no backups';
  printResult(!!o.json, items, text);
  return exitCodes.done;
}

function verificationText(v: BackupVerification): string {
  return [`backup ${v.backupId}: restore verification ${v.result.toUpperCase()} (signed by key ${v.keyId})`,
    ...v.checks.map((c) => `  ${c.status.padEnd(14)} ${c.name}: ${c.detail}`)].join('\n');
}

/** Exit 0 when the restore test passed, 1 when it failed (the evidence is recorded either way). */
export async function verifyBackup(id: string | undefined, o: RemoteOptions): Promise<number> {
  const api = createApiClient(resolveRemote(o));
  let run = await api.verifyBackup(id);
  if (!o.json) process.stderr.write(`verifying ${run.backupId} (the server restores it into a scratch store)…\n`);
  // A bar over the steps (restore, checks); the restore of a large store is most of the time.
  const progress = startProgress({ label: `verify ${run.backupId}`, unit: 'steps', total: run.stepsTotal, everyMs: o.progressEvery * 1000 });
  try {
    while (run.status === 'running') {
      await new Promise((r) => setTimeout(r, 500));
      run = await retryUnreachable(() => api.verificationStatus(run.id));
      progress.update(run.stepsDone);
    }
  } finally { progress.stop(); }
  if (run.status === 'failed' || !run.verification) {
    throw new CliError('cli.failed', `verification ${run.id} of ${run.backupId} could not run: ${run.error?.code}: ${run.error?.detail}`, { verificationId: run.id, error: run.error });
  }
  const v = run.verification;
  printResult(!!o.json, v, verificationText(v));
  return v.result === 'passed' ? exitCodes.done : exitCodes.failed;
}

/** Restores into a new data dir with the configured root key; the key file is not in the backup and stays where it is. */
export async function restoreBackup(id: string, to: string, o: { json?: boolean; progressEvery: number; targetTime?: string }): Promise<number> {
  const pg = await pgBackRest();
  if (pg) {
    await pg.restorePgBackup(pg.cfg, { id, to: resolve(to), targetTime: o.targetTime });
    printResult(!!o.json, { id, restoredTo: resolve(to), targetTime: o.targetTime ?? null },
      `restored ${id}${o.targetTime ? ` to ${o.targetTime}` : ''} into ${resolve(to)}: start PostgreSQL on it (it replays the archived WAL, then opens)`);
    return exitCodes.done;
  }
  if (o.targetTime) throw new CliError('cli.usage', '--target-time needs pgBackRest (TRESOR_PGBACKREST_STANZA): an embedded backup restores the moment it was made');
  const [{ loadConfig }, { readSummary }, restore, { openFileKeyProvider, openPassphraseKeyProvider }, { BackupError }] = await Promise.all([
    import('../config.ts'), import('../backup/backup-files.ts'), import('../backup/backup-restore.ts'), import('../crypto/key-provider.ts'), import('../backup/backup-format.ts')]);
  const config = loadConfig();
  const summary = readSummary(config.backupDir, id);
  if (!summary) throw new CliError('cli.file_unreadable', `no finished backup ${id} in ${config.backupDir} (TRESOR_BACKUP_DIR)`, { backupId: id });
  const progress = startProgress({ label: `restore ${id}`, unit: 'bytes', total: summary.snapshotBytes, everyMs: o.progressEvery * 1000 });
  const target = resolve(to);
  let reapplied = 0;
  try {
    let provider: KeyProvider | undefined;
    const db = await restore.restoreBackup({ backupDir: config.backupDir, summary, target, environment: config.environment, onProgress: (done) => progress.update(done),
      keyProvider: (header) => {
        if (header.key.provider !== config.keyProvider) throw new BackupError('backup.wrong_key', `backup ${id} was made with the '${header.key.provider}' key provider, TRESOR_KEY_PROVIDER is '${config.keyProvider}'`);
        return provider = config.keyProvider === 'file' ? openFileKeyProvider({ path: config.keyFile, allowCreate: false })
          : openPassphraseKeyProvider({ passphrase: config.keyPassphrase!, salt: Buffer.from(header.key.salt ?? '', 'base64') });
      } });
    try {
      // Erasures made after the backup was taken are applied before anything can read the copy.
      await migrate(db);
      reapplied = (await reapplyLedger(db, { backupDir: config.backupDir, key: signingKeyFor(provider!, LEDGER_SIGNING_PURPOSE) })).reapplied.length;
    } finally { await db.close(); }
  } finally { progress.stop(); }
  const next = `start it with TRESOR_DATA_DIR=${target}${config.keyProvider === 'file' ? ` TRESOR_KEY_FILE=${config.keyFile}` : ''} tresor start`;
  printResult(!!o.json, { ...summary, restoredTo: target, store: join(target, 'pglite'), erasuresReapplied: reapplied },
    `restored backup ${id} into ${target}; ${reapplied} later erasure(s) re-applied from the erasure ledger\n${next}`);
  return exitCodes.done;
}
