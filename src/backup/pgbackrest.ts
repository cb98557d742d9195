import { execFile } from 'node:child_process';
import { BackupError } from './backup-format.ts';
import { assertEmpty } from './backup-restore.ts';

// `tresor backup create|list|restore|verify` on PostgreSQL: pgBackRest does
// the work (ops/pgbackrest/), Tresor runs it with the configured stanza and
// reads its JSON. Run on the database host as the user that owns the
// repository (postgres), e.g. `sudo -u postgres tresor backup create --type diff`;
// run as root, Tresor runs pgBackRest (and PostgreSQL) as the postgres user.

export interface PgBackRestConfig { stanza: string; configFile?: string }

/** The pgBackRest stanza and config file of a deployment, or undefined when TRESOR_PGBACKREST_STANZA is not set. */
export const pgBackRestConfig = (c: { pgbackrestStanza?: string; pgbackrestConfig?: string }): PgBackRestConfig | undefined =>
  c.pgbackrestStanza ? { stanza: c.pgbackrestStanza, configFile: c.pgbackrestConfig } : undefined;
export interface PgBackup {
  id: string; type: string; createdAt: string; sizeBytes: number; databaseBytes: number; walStart: string; walStop: string;
  /** The id of the Tresor manifest taken with this backup (TRESOR_BACKUP_DIR/pgbackrest/<id>.json), null when made outside `tresor backup create`. */
  manifestId: string | null;
}

const OS_USER = 'postgres';
/** Root hands PostgreSQL's tools to the postgres user: files in the repository and data dirs stay owned by it. */
export function asPostgresUser(cmd: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', OS_USER, '--', cmd, ...args]] : [cmd, args];
}

export function runTool(cmd: string, args: string[], what: string): Promise<string> {
  const [file, argv] = asPostgresUser(cmd, args);
  return new Promise((resolve, reject) => {
    execFile(file, argv, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? `${cmd} is not installed (apt-get install -y pgbackrest postgresql-15)`
        : `${stderr || stdout}`.trim().split('\n').slice(-5).join('\n');
      reject(new BackupError('backup.pgbackrest_failed', `${what}: ${why}`));
    });
  });
}

const run = (cfg: PgBackRestConfig, args: string[]) =>
  runTool('pgbackrest', [`--stanza=${cfg.stanza}`, ...(cfg.configFile ? [`--config=${cfg.configFile}`] : []), ...args], `pgbackrest ${args.at(-1)}`);

interface InfoBackup {
  label: string; type: string; timestamp: { stop: number }; info: { size: number; repository: { delta: number } };
  archive: { start: string; stop: string }; annotation?: Record<string, string>;
}

export const MANIFEST_ANNOTATION = 'tresor-manifest';

// `pgbackrest info` exits 0 for a stanza it cannot read and says so in its
// status: 0 ok, 2 no valid backup yet (an empty list); anything else (missing
// stanza path or data, another cipher) is a failure, not an empty repository.
const INFO_OK = new Set([0, 2]);

/** Backups in the repository, newest first. */
export async function listPgBackups(cfg: PgBackRestConfig): Promise<PgBackup[]> {
  const info = JSON.parse(await run(cfg, ['--output=json', 'info'])) as Array<{ backup: InfoBackup[]; status?: { code: number; message: string } }>;
  const status = info[0]?.status;
  if (status && !INFO_OK.has(status.code)) throw new BackupError('backup.pgbackrest_failed', `pgbackrest info: stanza ${cfg.stanza}: ${status.message}`);
  return (info[0]?.backup ?? []).map((b) => ({
    id: b.label, type: b.type, createdAt: new Date(b.timestamp.stop * 1000).toISOString(),
    sizeBytes: b.info.repository.delta, databaseBytes: b.info.size, walStart: b.archive.start, walStop: b.archive.stop,
    manifestId: b.annotation?.[MANIFEST_ANNOTATION] ?? null,
  })).reverse();
}

/** A full or differential backup (WAL archiving covers the time in between), annotated with the Tresor manifest taken just before. */
export async function createPgBackup(cfg: PgBackRestConfig, type: 'full' | 'diff', manifestId?: string): Promise<PgBackup> {
  await run(cfg, [`--type=${type}`, ...(manifestId ? [`--annotation=${MANIFEST_ANNOTATION}=${manifestId}`] : []), 'backup']);
  const all = await listPgBackups(cfg);
  return (manifestId && all.find((b) => b.manifestId === manifestId)) || all[0];
}

/**
 * Restores into a new, empty PostgreSQL data dir: the backup set `id` ('latest'
 * for the newest), replayed to the end of the archived WAL, or to `targetTime`
 * (point-in-time recovery; PostgreSQL then promotes and opens for writes).
 * `immediate`: only to the backup's own consistent stop point (restore tests),
 * with WAL archiving off in the copy, so it never pushes into the repository.
 */
export async function restorePgBackup(cfg: PgBackRestConfig, o: { id: string; to: string; targetTime?: string; immediate?: boolean }): Promise<void> {
  assertEmpty(o.to);
  const set = o.id === 'latest' ? [] : [`--set=${o.id}`];
  const pitr = o.targetTime ? ['--type=time', `--target=${o.targetTime}`, '--target-action=promote']
    : o.immediate ? ['--type=immediate', '--target-action=promote', '--archive-mode=off'] : [];
  await run(cfg, [`--pg1-path=${o.to}`, ...set, ...pitr, 'restore']);
}
