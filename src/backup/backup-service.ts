import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Db } from '../db/db.ts';
import type { KeyProvider } from '../crypto/key-provider.ts';
import { RequestError } from '../errors.ts';
import type { Actor } from '../access/permissions.ts';
import { auditActor } from '../audit/audit-leaf.ts';
import { encodeHeader, encryptFrames, newBackupKey } from './backup-format.ts';
import { ensureBackupDir, listSummaries, partialFile, pruneBackups, readSummary, removeBackup, writeSummary } from './backup-files.ts';
import { backupRepo } from './backup-repo.ts';
import type { Environment } from '../environments/environment.ts';
import type { BackupManifest, BackupRun, BackupSummary } from './backup-schemas.ts';

export interface BackupDeps {
  db: Db;
  keyProvider: KeyProvider;
  backupDir: string;
  /** Backups kept after each new one (TRESOR_BACKUP_KEEP). */
  keep: number;
  /** TRESOR_ENVIRONMENT, recorded in each manifest (a restore checks it). */
  environment?: Environment;
  now?: () => Date;
  /** Where a background backup's unexpected failure is logged. */
  onError?: (msg: string, err: unknown) => void;
}

export type Progress = (done: number, total: number) => void;

/** 20261202T041500123Z-9f86d081: sorts by time, safe as a file name. */
export function newBackupId(at: Date): string {
  return `${at.toISOString().replace(/[-:.]/g, '')}-${randomBytes(4).toString('hex')}`;
}

// Blob.stream() on Node 20 stalls on a snapshot of several GiB (a 1M-record
// store); reading it in slices of 64 MiB does not, and bounds each copy.
const PIECE_BYTES = 64 * 1024 * 1024;
async function* blobPieces(blob: Blob): AsyncGenerator<Buffer> {
  for (let at = 0; at < blob.size; at += PIECE_BYTES) yield Buffer.from(await blob.slice(at, at + PIECE_BYTES).arrayBuffer());
}

/** Counts and hashes the snapshot's plaintext on its way to the cipher. */
function plaintextTap(hash: ReturnType<typeof createHash>, total: number, onProgress: Progress): Transform {
  let done = 0;
  return new Transform({ transform(chunk: Buffer, _e, cb) {
    hash.update(chunk);
    done += chunk.length;
    onProgress(done, total);
    cb(null, chunk);
  } });
}

function fileTap(hash: ReturnType<typeof createHash>, size: { bytes: number }): Transform {
  return new Transform({ transform(chunk: Buffer, _e, cb) { hash.update(chunk); size.bytes += chunk.length; cb(null, chunk); } });
}

// Backups of the embedded store: a consistent copy of the PGlite data dir
// (dumpDataDir inside a transaction, see the driver), encrypted as it streams
// to TRESOR_BACKUP_DIR. A copy of the data dir rather than a logical export:
// it restores byte for byte what the store held (roles, policies, sequences,
// migrations table), needs no schema knowledge, and opens with PGlite as is.
// PostgreSQL deployments back up with pgBackRest (ops/pgbackrest/).
export function backupServiceFactory({ db, keyProvider, backupDir, keep, environment, now = () => new Date(), onError = () => {} }: BackupDeps) {
  let running = false;
  let settled: Promise<unknown> = Promise.resolve();
  // Runs started over the API, newest last (a handful: they are also on disk once complete).
  const runs = new Map<string, BackupRun>();
  const remember = (run: BackupRun) => { runs.set(run.id, run); if (runs.size > 20) runs.delete(runs.keys().next().value as string); };

  async function snapshot(id: string) {
    if (!db.snapshot) throw new Error('claim() checks for an embedded store first');
    const createdAt = now().toISOString();
    const { result, tar } = await db.snapshot(async (tx) => ({
      tenants: await backupRepo.tenantRowCounts(tx),
      schemaVersion: Math.max(0, ...(await backupRepo.appliedMigrations(tx)).map((m) => m.version)),
      auditTreeHead: await backupRepo.latestTreeHead(tx),
      salt: await backupRepo.passphraseSalt(tx),
    }));
    const manifest: BackupManifest = { id, createdAt, store: 'pglite', schemaVersion: result.schemaVersion, snapshotBytes: tar.size,
      ...(environment ? { environment } : {}), tenants: result.tenants, auditTreeHead: result.auditTreeHead };
    return { manifest, tar, salt: result.salt };
  }

  async function write(manifest: BackupManifest, tar: Blob, salt: Buffer | null, onProgress: Progress): Promise<BackupSummary> {
    const { key, header } = newBackupKey(keyProvider, manifest, keyProvider.name === 'passphrase' ? salt : null);
    const plain = createHash('sha256');
    const file = createHash('sha256');
    const size = { bytes: 0 };
    ensureBackupDir(backupDir);
    await pipeline(Readable.from(blobPieces(tar)), plaintextTap(plain, tar.size, onProgress),
      encryptFrames(key, encodeHeader(header), manifest.id), fileTap(file, size), createWriteStream(partialFile(backupDir, manifest.id), { mode: 0o600 }));
    key.fill(0);
    const summary: BackupSummary = { ...manifest, sizeBytes: size.bytes, sha256: file.digest('hex'), snapshotSha256: plain.digest('hex') };
    writeSummary(backupDir, summary);
    return summary;
  }

  async function make(actor: Actor, id: string, onProgress: Progress): Promise<BackupSummary> {
    try {
      const { manifest, tar, salt } = await snapshot(id);
      const summary = await write(manifest, tar, salt, onProgress);
      const pruned = pruneBackups(backupDir, keep);
      await db.transaction(async (tx) => tx.audit({ tenantId: null, action: 'backup.create', actor: auditActor(actor),
        target: { type: 'backup', id }, detail: { sizeBytes: summary.sizeBytes, pruned: pruned.length } }));
      return summary;
    } catch (err) {
      removeBackup(backupDir, id);
      throw err;
    }
  }

  function claim(): string {
    if (!db.snapshot) throw new RequestError('backup.unsupported_store', 'Tresor backs up the embedded store itself; back up PostgreSQL with pgBackRest (docs/operations.md, Backups)');
    if (running) throw new RequestError('backup.in_progress');
    running = true;
    return newBackupId(now());
  }

  return {
    /** Takes a backup now, then keeps only the newest `keep`. One at a time per process. */
    async create(actor: Actor, onProgress: Progress = () => {}): Promise<BackupSummary> {
      const id = claim();
      try { return await make(actor, id, onProgress); } finally { running = false; }
    },
    /** Starts a backup in the background (a large store takes minutes); follow it with status(id). */
    start(actor: Actor): BackupRun {
      const run: BackupRun = { id: claim(), status: 'running', bytesDone: 0, bytesTotal: 0, error: null, backup: null };
      remember(run);
      settled = make(actor, run.id, (done, total) => { run.bytesDone = done; run.bytesTotal = total; }).then(
        (backup) => { run.status = 'complete'; run.backup = backup; },
        (err) => {
          run.status = 'failed';
          const coded = err instanceof RequestError;
          run.error = { code: coded ? err.code : 'internal.error', detail: coded ? err.message : 'the backup failed; the server log has the details' };
          if (!coded) onError(`backup ${run.id} failed`, err);
        }).finally(() => { running = false; });
      return { ...run };
    },
    status(id: string): BackupRun {
      const run = runs.get(id);
      if (run) return { ...run };
      const backup = readSummary(backupDir, id);
      if (!backup) throw new RequestError('backup.not_found', `No backup ${id} in the backup directory`);
      return { id, status: 'complete', bytesDone: backup.snapshotBytes, bytesTotal: backup.snapshotBytes, error: null, backup };
    },
    /** Resolves when the backup started last has finished (tests, shutdown). */
    idle: () => settled.then(() => {}),
    list: (): BackupSummary[] => listSummaries(backupDir),
    get(id: string): BackupSummary {
      const summary = readSummary(backupDir, id);
      if (!summary) throw new RequestError('backup.not_found', `No backup ${id} in the backup directory`);
      return summary;
    },
  };
}

export type BackupService = ReturnType<typeof backupServiceFactory>;
