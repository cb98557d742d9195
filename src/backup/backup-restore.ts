import { createHash } from 'node:crypto';
import { createReadStream, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../db/db.ts';
import { openPglite } from '../db/pglite-driver.ts';
import { acquireDataDirLock } from '../db/data-dir-lock.ts';
import { latestMigration } from '../db/migrate.ts';
import type { KeyProvider } from '../crypto/key-provider.ts';
import { BackupError, type BackupHeader, backupReader, decryptFrames, openBackupKey, readHeader } from './backup-format.ts';
import { dataFile, sha256OfFile } from './backup-files.ts';
import type { BackupSummary } from './backup-schemas.ts';
import type { Progress } from './backup-service.ts';
import { type Environment, mayReceiveAsIs } from '../environments/environment.ts';

export interface RestoreInput {
  backupDir: string;
  summary: BackupSummary;
  /** The new data dir (TRESOR_DATA_DIR of the restored store): must not exist or be empty. */
  target: string;
  /** The root key provider; the passphrase provider needs the salt the header carries. */
  keyProvider: (header: BackupHeader) => KeyProvider;
  onProgress?: Progress;
  /** The restoring deployment's TRESOR_ENVIRONMENT: a production backup is refused outside production. */
  environment?: Environment;
}

export function assertEmpty(target: string): void {
  let entries: string[];
  try { entries = readdirSync(target); } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (entries.length) {
    throw new BackupError('backup.target_not_empty', `${target} is not empty: a restore writes a new data dir and never overwrites a store (running or not)`);
  }
}

function assertHeaderMatches(header: BackupHeader, summary: BackupSummary): void {
  const m = header.manifest;
  if (m.id !== summary.id || m.schemaVersion !== summary.schemaVersion || m.snapshotBytes !== summary.snapshotBytes || m.createdAt !== summary.createdAt
    || m.environment !== summary.environment) {
    throw new BackupError('backup.corrupt', `the manifest of ${summary.id} does not match its file's authenticated header`);
  }
  if (m.schemaVersion > latestMigration()) {
    throw new BackupError('backup.newer_schema',
      `backup ${m.id} has schema version ${m.schemaVersion}, this Tresor knows up to ${latestMigration()}: restore it with a newer Tresor`);
  }
}

/** Checks, then decrypts the whole snapshot; nothing is written before every check has passed. */
async function decryptSnapshot(input: RestoreInput): Promise<Blob> {
  const { backupDir, summary, onProgress = () => {} } = input;
  const path = dataFile(backupDir, summary.id);
  const actual = await sha256OfFile(path);
  if (actual.sha256 !== summary.sha256 || actual.sizeBytes !== summary.sizeBytes) {
    throw new BackupError('backup.checksum_mismatch', `backup ${summary.id}: the file's SHA-256 is not the one recorded when it was made; it is damaged`);
  }
  const reader = backupReader(createReadStream(path));
  const { header, raw } = await readHeader(reader);
  assertHeaderMatches(header, summary);
  if (input.environment && !mayReceiveAsIs(header.manifest.environment, input.environment)) {
    throw new BackupError('backup.production_into_non_production', `backup ${summary.id} holds production data and this deployment is ` +
      `'${input.environment}' (TRESOR_ENVIRONMENT): it is not restored here. Copy tenants pseudonymised instead: tresor tenant clone --tenant ID --to TARGET --pseudonymize`);
  }
  const key = openBackupKey(input.keyProvider(header), header);
  const parts: Uint8Array<ArrayBuffer>[] = [];
  const hash = createHash('sha256');
  let done = 0;
  for await (const plain of decryptFrames(reader, key, header, raw)) {
    parts.push(new Uint8Array(plain));
    hash.update(plain);
    done += plain.length;
    onProgress(done, summary.snapshotBytes);
  }
  key.fill(0);
  if (hash.digest('hex') !== summary.snapshotSha256 || done !== summary.snapshotBytes) {
    throw new BackupError('backup.checksum_mismatch', `backup ${summary.id}: the decrypted snapshot's SHA-256 is not the recorded one`);
  }
  return new Blob(parts);
}

/**
 * Restores a backup into a new data dir and returns the open store (the
 * caller closes it). The store lands in `<target>/pglite`, locked like any
 * embedded store while open.
 */
export async function restoreBackup(input: RestoreInput): Promise<Db> {
  assertEmpty(input.target);
  const snapshot = await decryptSnapshot(input);
  assertEmpty(input.target);
  const release = acquireDataDirLock(input.target);
  try {
    const db = await openPglite(join(input.target, 'pglite'), { loadDataDir: snapshot });
    return { ...db, close: async () => { try { await db.close(); } finally { release(); } } };
  } catch (err) {
    release();
    throw err;
  }
}
