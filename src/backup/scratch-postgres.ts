import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTool } from './pgbackrest.ts';
import { BackupError } from './backup-format.ts';

// A throwaway PostgreSQL 15 for restore tests of pgBackRest backups: a data
// dir under a new temp dir, started from Debian's binaries on a free loopback
// port, reachable only through its own unix socket (its pg_hba.conf refuses
// every TCP connection), with WAL archiving off; stopped and deleted after.

export const PG_BIN = '/usr/lib/postgresql/15/bin';
/** Bound on recovery of the restored copy (replaying the backup's WAL). */
const START_TIMEOUT_MS = 600_000;

export interface ScratchDir { dir: string; data: string; remove(): void }

/** A new temp dir for the restored data dir, owned by postgres when we run as root. */
export function scratchDir(): ScratchDir {
  const dir = mkdtempSync(join(tmpdir(), 'tresor-verify-pg-'));
  if (process.getuid?.() === 0) {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, id('-u'), id('-g'));
  }
  return { dir, data: join(dir, 'data'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address() as { port: number }; srv.close(() => resolve(port)); });
  });
}

export interface ScratchCluster { port: number; socketPath: string; stop(): Promise<void> }

/** Starts PostgreSQL on a restored data dir; resolves once recovery has ended and it accepts connections. */
export async function startScratchCluster(s: ScratchDir): Promise<ScratchCluster> {
  const port = await freePort();
  const hba = join(s.dir, 'pg_hba.conf');
  writeFileSync(hba, 'local all all trust\nhost all all 0.0.0.0/0 reject\nhost all all ::/0 reject\n', { mode: 0o644 });
  // Settings from the live cluster's configuration that would reach out
  // (archiving, replication, TLS files) are overridden. hot_standby off: no
  // connection before recovery has reached the backup's stop point and
  // promoted, so pg_ctl -w returns with the copy open for the checks.
  const settings = [`port=${port}`, "listen_addresses='127.0.0.1'", `unix_socket_directories='${s.dir}'`, `hba_file='${hba}'`,
    'archive_mode=off', "primary_conninfo=''", "primary_slot_name=''", 'ssl=off', 'hot_standby=off', "shared_preload_libraries=''", 'logging_collector=off'];
  await runTool(`${PG_BIN}/pg_ctl`, ['-D', s.data, '-l', join(s.dir, 'postgres.log'), '-w', '-t', String(START_TIMEOUT_MS / 1000), 'start',
    '-o', settings.map((kv) => `-c ${kv}`).join(' ')], 'starting the scratch PostgreSQL');
  // pg_ctl -w may return while the startup process still finishes recovery: wait for the promoted copy.
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const open = await runTool(`${PG_BIN}/psql`, ['-h', s.dir, '-p', String(port), '-d', 'postgres', '-XAtc', 'select pg_is_in_recovery()'], 'psql')
      .then((out) => out.trim() === 'f', () => false);
    if (open) break;
    if (Date.now() > deadline) throw new BackupError('backup.pgbackrest_failed', `the restored copy did not finish recovery within ${START_TIMEOUT_MS / 1000} s; see ${s.dir}/postgres.log`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    port, socketPath: join(s.dir, `.s.PGSQL.${port}`),
    stop: async () => { await runTool(`${PG_BIN}/pg_ctl`, ['-D', s.data, '-m', 'immediate', '-w', 'stop'], 'stopping the scratch PostgreSQL').catch(() => {}); },
  };
}
