import { createReadStream, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { BackupSummary } from './backup-schemas.ts';

// TRESOR_BACKUP_DIR holds two files per backup: `<id>.tresorbak` (the
// encrypted snapshot) and `<id>.json` (its summary: manifest, size,
// checksums). The summary is written last, by rename, so a backup is listed
// only once its data file is complete; a crash leaves at most a `.partial`.
export const dataFile = (dir: string, id: string) => join(dir, `${id}.tresorbak`);
const summaryFile = (dir: string, id: string) => join(dir, `${id}.json`);
export const partialFile = (dir: string, id: string) => join(dir, `${id}.tresorbak.partial`);

export function ensureBackupDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

export function writeSummary(dir: string, summary: BackupSummary): void {
  const tmp = `${summaryFile(dir, summary.id)}.partial`;
  writeFileSync(tmp, `${JSON.stringify(summary, null, 2)}\n`, { mode: 0o600 });
  renameSync(partialFile(dir, summary.id), dataFile(dir, summary.id));
  renameSync(tmp, summaryFile(dir, summary.id));
}

export function readSummary(dir: string, id: string): BackupSummary | undefined {
  try {
    return JSON.parse(readFileSync(summaryFile(dir, id), 'utf8')) as BackupSummary;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Finished backups, newest first (ids sort by time). */
export function listSummaries(dir: string): BackupSummary[] {
  let names: string[];
  try { names = readdirSync(dir); } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const ids = names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).map((n) => n.slice(0, -5)).sort().reverse();
  return ids.map((id) => readSummary(dir, id)).filter((s): s is BackupSummary => s !== undefined);
}

/** Deletes all but the newest `keep` backups; returns the ids removed. */
export function pruneBackups(dir: string, keep: number): string[] {
  const old = listSummaries(dir).slice(keep).map((s) => s.id);
  for (const id of old) {
    rmSync(summaryFile(dir, id), { force: true });
    rmSync(dataFile(dir, id), { force: true });
  }
  return old;
}

export function removeBackup(dir: string, id: string): void {
  rmSync(partialFile(dir, id), { force: true });
  rmSync(`${summaryFile(dir, id)}.partial`, { force: true });
}

export async function sha256OfFile(path: string): Promise<{ sha256: string; sizeBytes: number }> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return { sha256: hash.digest('hex'), sizeBytes: statSync(path).size };
}
