// npm run test:backup-pg: `tresor backup` delegating to pgBackRest, against a
// throwaway PostgreSQL 15 (Debian's binaries) on port 5499 under a temp dir,
// run as the postgres user, with an encrypted repository and WAL archiving:
// a full and a differential backup, then a point-in-time restore that must
// hold every row committed before the target time and none after. Needs root
// (to act as postgres) and `apt-get install -y pgbackrest`. Not in `npm test`:
// it starts two clusters and takes about a minute.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { bin } from '../test/cli/run-cli.ts';

const PG = '/usr/lib/postgresql/15/bin';
const PORT = 5499;
const RESTORE_PORT = 5498;
const asPostgres = (cmd: string, args: string[], env: Record<string, string> = {}) =>
  spawnSync('runuser', ['-u', 'postgres', '--', 'env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), cmd, ...args], { encoding: 'utf8' });
const must = (r: ReturnType<typeof asPostgres>) => { assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`); return r.stdout; };

describe('tresor backup with pgBackRest: full, differential, point-in-time restore', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tresor-pgbackrest-'));
  const data = join(dir, 'pg');
  const restored = join(dir, 'restored');
  const conf = join(dir, 'pgbackrest.conf');
  const env = { HOME: dir, PATH: process.env.PATH ?? '', TRESOR_PGBACKREST_STANZA: 'tresor', TRESOR_PGBACKREST_CONFIG: conf };
  const tresor = (...args: string[]) => asPostgres(process.execPath, [bin, 'backup', ...args, '--json'], env);
  let sql: postgres.Sql;

  before(() => {
    execFileSync('chown', ['postgres:postgres', dir]);
    chmodSync(dir, 0o700);
    must(asPostgres(`${PG}/initdb`, ['-D', data, '--auth=trust', '-U', 'postgres']));
    writeFileSync(conf, [
      '[global]', `repo1-path=${join(dir, 'repo')}`, 'repo1-cipher-type=aes-256-cbc', `repo1-cipher-pass=${randomBytes(32).toString('base64')}`,
      'repo1-retention-full=2', `lock-path=${join(dir, 'lock')}`, `log-path=${join(dir, 'log')}`, `spool-path=${join(dir, 'spool')}`, 'start-fast=y',
      '[tresor]', `pg1-path=${data}`, `pg1-port=${PORT}`, `pg1-socket-path=${dir}`, ''].join('\n'));
    execFileSync('chown', ['postgres:postgres', conf]);
    writeFileSync(join(data, 'postgresql.auto.conf'), [`port = ${PORT}`, "listen_addresses = ''", `unix_socket_directories = '${dir}'`,
      'wal_level = replica', 'archive_mode = on', `archive_command = 'pgbackrest --config=${conf} --stanza=tresor archive-push %p'`, ''].join('\n'));
    must(asPostgres(`${PG}/pg_ctl`, ['-D', data, '-l', join(dir, 'pg.log'), '-w', 'start']));
    must(asPostgres('pgbackrest', [`--config=${conf}`, '--stanza=tresor', 'stanza-create']));
    sql = postgres({ host: dir, port: PORT, user: 'postgres', database: 'postgres', onnotice: () => {} });
  });
  after(async () => {
    await sql?.end();
    for (const d of [restored, data]) asPostgres(`${PG}/pg_ctl`, ['-D', d, '-m', 'immediate', 'stop']);
    rmSync(dir, { recursive: true, force: true });
  });

  it('backs up full and differential, lists newest first, restores to a point in time', async () => {
    await sql`create table people (n int primary key, phase text not null)`;
    await sql`insert into people select g, 'before full' from generate_series(1, 100) g`;
    const full = JSON.parse(must(tresor('create', '--type', 'full')));
    assert.equal(full.type, 'full');
    await sql`insert into people select g, 'before diff' from generate_series(101, 150) g`;
    const diff = JSON.parse(must(tresor('create', '--type', 'diff')));
    assert.equal(diff.type, 'diff');
    assert.deepEqual(JSON.parse(must(tresor('list'))).map((b: { id: string }) => b.id), [diff.id, full.id]);

    await sql`insert into people select g, 'after diff' from generate_series(151, 160) g`;
    const [{ target }] = await sql`select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00' as target`;
    await sql`insert into people select g, 'too late' from generate_series(161, 170) g`;
    // Pushes the WAL holding both inserts into the repository.
    must(asPostgres('pgbackrest', [`--config=${conf}`, '--stanza=tresor', 'check']));

    const done = JSON.parse(must(tresor('restore', 'latest', '--to', restored, '--target-time', target)));
    assert.equal(done.restoredTo, restored);
    must(asPostgres(`${PG}/pg_ctl`, ['-D', restored, '-l', join(dir, 'restored.log'), '-w', '-t', '120', 'start',
      '-o', `-p ${RESTORE_PORT} -c archive_mode=off`]));
    const copy = postgres({ host: dir, port: RESTORE_PORT, user: 'postgres', database: 'postgres', onnotice: () => {} });
    try {
      // pg_ctl -w returns once connections are accepted, which a hot standby does while it still replays WAL.
      for (let i = 0; i < 600 && (await copy`select pg_is_in_recovery() as r`)[0].r; i++) await new Promise((r) => setTimeout(r, 200));
      const phases = await copy`select phase, count(*)::int as n from people group by phase order by phase`;
      assert.deepEqual(phases.map((r) => [r.phase, r.n]), [['after diff', 10], ['before diff', 50], ['before full', 100]]);
      const [{ readOnly }] = await copy`select current_setting('transaction_read_only') as "readOnly"`;
      assert.equal(readOnly, 'off', 'recovery ended with promotion: the restored cluster takes writes');
    } finally { await copy.end(); }
  });

  it('refuses a target that is not empty, and names pgBackRest\'s failure', () => {
    const occupied = join(dir, 'occupied');
    mkdirSync(occupied);
    writeFileSync(join(occupied, 'keep'), 'x');
    execFileSync('chown', ['-R', 'postgres:postgres', occupied]);
    const r = tresor('restore', 'latest', '--to', occupied);
    assert.equal(r.status, 1);
    assert.equal(JSON.parse(r.stdout).code, 'backup.target_not_empty');
    assert.deepEqual(readdirSync(occupied), ['keep']);
    const bad = tresor('restore', 'no-such-set', '--to', join(dir, 'nowhere'));
    assert.equal(bad.status, 1);
    assert.equal(JSON.parse(bad.stdout).code, 'backup.pgbackrest_failed');
    // A stanza the repository does not hold is a failure, not an empty list (pgbackrest info itself exits 0 for it).
    const unknown = asPostgres(process.execPath, [bin, 'backup', 'list', '--json'], { ...env, TRESOR_PGBACKREST_STANZA: 'no-such-stanza' });
    assert.equal(unknown.status, 1, unknown.stdout + unknown.stderr);
    assert.equal(JSON.parse(unknown.stdout).code, 'backup.pgbackrest_failed');
    assert.match(JSON.parse(unknown.stdout).detail, /stanza no-such-stanza: missing stanza path/);
  });
});
