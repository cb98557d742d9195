import { execFile } from 'node:child_process';
import { BackupError } from './backup-format.ts';
import { assertEmpty } from './backup-restore.ts';

// `tresor backup create|list|restore` on PostgreSQL: pgBackRest does the work
// (ops/pgbackrest/), Tresor runs it with the configured stanza and reads its
// JSON. Run on the database host as the user that owns the repository
// (postgres), e.g. `sudo -u postgres tresor backup create --type diff`.

export interface PgBackRestConfig { stanza: string; configFile?: string }
export interface PgBackup { id: string; type: string; createdAt: string; sizeBytes: number; databaseBytes: number; walStart: string; walStop: string }

function run(cfg: PgBackRestConfig, args: string[]): Promise<string> {
  const all = [`--stanza=${cfg.stanza}`, ...(cfg.configFile ? [`--config=${cfg.configFile}`] : []), ...args];
  return new Promise((resolve, reject) => {
    execFile('pgbackrest', all, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'pgbackrest is not installed (apt-get install -y pgbackrest)'
        : `${stderr || stdout}`.trim().split('\n').slice(-5).join('\n');
      reject(new BackupError('backup.pgbackrest_failed', `pgbackrest ${args.at(-1)}: ${why}`));
    });
  });
}

interface InfoBackup { label: string; type: string; timestamp: { stop: number }; info: { size: number; repository: { delta: number } }; archive: { start: string; stop: string } }

/** Backups in the repository, newest first. */
export async function listPgBackups(cfg: PgBackRestConfig): Promise<PgBackup[]> {
  const info = JSON.parse(await run(cfg, ['--output=json', 'info'])) as Array<{ backup: InfoBackup[] }>;
  return (info[0]?.backup ?? []).map((b) => ({
    id: b.label, type: b.type, createdAt: new Date(b.timestamp.stop * 1000).toISOString(),
    sizeBytes: b.info.repository.delta, databaseBytes: b.info.size, walStart: b.archive.start, walStop: b.archive.stop,
  })).reverse();
}

/** A full or differential backup (WAL archiving covers the time in between). */
export async function createPgBackup(cfg: PgBackRestConfig, type: 'full' | 'diff'): Promise<PgBackup> {
  await run(cfg, [`--type=${type}`, 'backup']);
  return (await listPgBackups(cfg))[0];
}

/**
 * Restores into a new, empty PostgreSQL data dir: the backup set `id` ('latest'
 * for the newest), replayed to the end of the archived WAL, or to `targetTime`
 * (point-in-time recovery; PostgreSQL then promotes and opens for writes).
 */
export async function restorePgBackup(cfg: PgBackRestConfig, o: { id: string; to: string; targetTime?: string }): Promise<void> {
  assertEmpty(o.to);
  const set = o.id === 'latest' ? [] : [`--set=${o.id}`];
  const pitr = o.targetTime ? ['--type=time', `--target=${o.targetTime}`, '--target-action=promote'] : [];
  await run(cfg, [`--pg1-path=${o.to}`, ...set, ...pitr, 'restore']);
}
