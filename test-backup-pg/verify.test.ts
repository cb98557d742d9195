// npm run test:backup-pg: restore verification of pgBackRest backups. A
// throwaway PostgreSQL 15 (Debian's binaries, port 5497, run as postgres)
// holds a real Tresor database with WAL archiving into an encrypted
// repository; `tresor backup create` (as the postgres user, as documented)
// records the manifest and the backup; the API's verification restores it
// into a scratch cluster of its own, runs the checks and signs the evidence.
// Needs root and `apt-get install -y pgbackrest`.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { bin } from '../test/cli/run-cli.ts';
import { loadConfig } from '../src/config.ts';
import { openPostgres } from '../src/db/postgres-driver.ts';
import { migrate } from '../src/db/migrate.ts';
import { openRootKey } from '../src/keys/root-key.ts';
import { createServices, type Services } from '../src/services.ts';
import { buildApp } from '../src/app.ts';
import type { App } from '../src/http/app-types.ts';
import { verifyEd25519 } from '../src/crypto/signing.ts';

const PG = '/usr/lib/postgresql/15/bin';
const customers = { name: 'customers', fields: [{ name: 'email', type: 'email', unique: true }, { name: 'name', type: 'string', required: true },
  { name: 'birthdate', type: 'date', classification: 'special' }, { name: 'tier', type: 'string', classification: 'none' }] };
const PORT = 5497;
const asPostgres = (cmd: string, args: string[], env: Record<string, string> = {}) =>
  spawnSync('runuser', ['-u', 'postgres', '--', 'env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), cmd, ...args], { encoding: 'utf8' });
const must = (r: ReturnType<typeof asPostgres>) => { assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`); return r.stdout; };
const scratchDirs = () => readdirSync(tmpdir()).filter((n) => n.startsWith('tresor-verify-pg-')).sort();

describe('tresor backup verify with pgBackRest: restore into a scratch cluster, checks, signed evidence', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tresor-pgverify-'));
  const data = join(dir, 'pg');
  const repo = join(dir, 'repo');
  const conf = join(dir, 'pgbackrest.conf');
  const backupDir = join(dir, 'backups');
  const databaseUrl = `postgres://postgres@127.0.0.1:${PORT}/tresor`;
  const env = { HOME: dir, PATH: process.env.PATH ?? '', DATABASE_URL: databaseUrl, TRESOR_BACKUP_DIR: backupDir,
    TRESOR_PGBACKREST_STANZA: 'tresor', TRESOR_PGBACKREST_CONFIG: conf };
  const tresorBackup = (...args: string[]) => asPostgres(process.execPath, [bin, 'backup', ...args, '--json'], env);
  let app: App;
  let services: Services;
  let operatorKey: string;
  let closeDb = async () => {};
  /** POST answers 202 with the run; its status reads complete with the evidence once the background work is done. */
  const verify = async (body: object) => {
    const res = await call('POST', '/v1/backups/verifications', body);
    assert.equal(res.statusCode, 202, res.body);
    assert.equal(res.json().stepsTotal, 7);
    await services.verifications.idle();
    const run = (await call('GET', `/v1/backups/verifications/${res.json().id}/status`)).json();
    assert.equal(run.status, 'complete', JSON.stringify(run));
    return run.verification;
  };
  const call = (method: 'GET' | 'POST', url: string, body?: unknown, token = operatorKey) => app.inject({ method, url,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, payload: body ? JSON.stringify(body) : undefined });

  before(async () => {
    execFileSync('chown', ['postgres:postgres', dir]);
    chmodSync(dir, 0o700);
    must(asPostgres(`${PG}/initdb`, ['-D', data, '--auth=trust', '-U', 'postgres']));
    writeFileSync(conf, [
      '[global]', `repo1-path=${repo}`, 'repo1-cipher-type=aes-256-cbc', `repo1-cipher-pass=${randomBytes(32).toString('base64')}`,
      'repo1-retention-full=2', `lock-path=${join(dir, 'lock')}`, `log-path=${join(dir, 'log')}`, `spool-path=${join(dir, 'spool')}`, 'start-fast=y',
      '[tresor]', `pg1-path=${data}`, `pg1-port=${PORT}`, `pg1-socket-path=${dir}`, ''].join('\n'));
    execFileSync('chown', ['postgres:postgres', conf]);
    writeFileSync(join(data, 'postgresql.auto.conf'), [`port = ${PORT}`, "listen_addresses = '127.0.0.1'", `unix_socket_directories = '${dir}'`,
      'wal_level = replica', 'archive_mode = on', `archive_command = 'pgbackrest --config=${conf} --stanza=tresor archive-push %p'`, ''].join('\n'));
    must(asPostgres(`${PG}/pg_ctl`, ['-D', data, '-l', join(dir, 'pg.log'), '-w', 'start']));
    must(asPostgres('pgbackrest', [`--config=${conf}`, '--stanza=tresor', 'stanza-create']));
    must(asPostgres(`${PG}/createdb`, ['-h', dir, '-p', String(PORT), 'tresor']));

    // Tresor on that database, as `tresor start` wires it (the server here runs as root, as the brief's operator does).
    const config = loadConfig({ ...env, TRESOR_KEY_FILE: join(dir, 'keys', 'root.key'), TRESOR_DATA_DIR: join(dir, 'unused'), LOG_LEVEL: 'silent',
      TRESOR_REQUIRE_INSTRUCTION: 'off' }); // as the unit tests: instructions are tested on their own
    const db = openPostgres({ url: databaseUrl, poolMax: 4, connectTimeoutMs: config.dbConnectTimeoutMs, statementTimeoutMs: config.dbStatementTimeoutMs });
    closeDb = () => db.close();
    await migrate(db);
    services = createServices(config, { db, keyProvider: await openRootKey(config, db) });
    app = await buildApp(config, services);
    operatorKey = (await services.apiKeys.createOperatorKey('test operator')).key;
    const tenant = (await call('POST', '/v1/tenants', { name: 'Acme' })).json();
    const admin = (await call('POST', `/v1/tenants/${tenant.id}/api-keys`, { name: 'admin', role: 'admin' })).json().key;
    assert.equal((await call('POST', `/v1/tenants/${tenant.id}/collections`, customers, admin)).statusCode, 201);
    for (let i = 0; i < 3; i++) {
      const res = await call('POST', `/v1/tenants/${tenant.id}/collections/customers/records`,
        { data: { email: `p${i}@example.com`, name: `Person ${i}`, birthdate: '1980-01-02', tier: 'gold' } }, admin);
      assert.equal(res.statusCode, 201, res.body);
    }
    await services.requestLog.flush();
    await services.jobs.kick('audit-sequencer');
  });
  after(async () => {
    await app?.close();
    await closeDb();
    asPostgres(`${PG}/pg_ctl`, ['-D', data, '-m', 'immediate', 'stop']);
    rmSync(dir, { recursive: true, force: true });
  });

  let label: string;
  let passedAt: number;

  it('a backup made with `tresor backup create` restores, passes every check, and the evidence is signed', async () => {
    const made = JSON.parse(must(tresorBackup('create', '--type', 'full')));
    label = made.id;
    assert.match(label, /^[0-9]{8}-[0-9]{6}F$/);
    const manifest = JSON.parse(readFileSync(join(backupDir, 'pgbackrest', `${label}.json`), 'utf8'));
    assert.equal(manifest.id, made.manifestId, "the backup's annotation names the manifest taken with it");
    assert.equal(manifest.tenants[0].rows.records, 3);
    assert.ok(manifest.auditTreeHead.treeSize > 0, 'the seeding requests are in the audit log');
    const before = scratchDirs();

    const v = await verify({ backupId: label });
    assert.equal(v.backupId, label);
    assert.equal(v.result, 'passed', JSON.stringify(v.checks, null, 1));
    const status = Object.fromEntries(v.checks.map((c: { name: string; status: string }) => [c.name, c.status]));
    assert.deepEqual(status, { restore: 'passed', row_counts: 'passed', record_decryption: 'passed', migrations: 'passed', audit_log: 'passed', erasure_ledger: 'passed' });
    const detail = (name: string) => v.checks.find((c: { name: string }) => c.name === name).detail as string;
    assert.match(detail('row_counts'), /exactly as counted: no transaction committed between the count and the backup's stop point$/);
    assert.match(detail('record_decryption'), /^3 record\(s\) decrypted across 1 tenant/);
    assert.match(detail('audit_log'), new RegExp(`matches the manifest's tree head of size ${manifest.auditTreeHead.treeSize}$`));
    const evidence = Buffer.from(v.evidence, 'base64');
    assert.ok(verifyEd25519(Buffer.from(v.publicKey, 'base64'), evidence, Buffer.from(v.signature, 'base64')));
    assert.deepEqual(JSON.parse(evidence.toString('utf8')), { backupId: label, checks: v.checks, result: 'passed', verifiedAt: v.verifiedAt });
    passedAt = Date.parse(v.verifiedAt);

    // The scratch cluster is gone, and the live one was never touched: still the primary on timeline 1, nothing archived from a copy.
    assert.deepEqual(scratchDirs(), before);
    const live = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    try {
      const [{ recovery, timeline }] = await live`select pg_is_in_recovery() as recovery, (pg_control_checkpoint()).timeline_id as timeline`;
      assert.deepEqual([recovery, timeline], [false, 1]);
    } finally { await live.end(); }
    const archived = readdirSync(join(repo, 'archive', 'tresor'), { recursive: true }).map(String);
    assert.ok(!archived.some((f) => /(^|\/)00000002/.test(f)), `no WAL of a new timeline in the repository: ${archived.join(', ')}`);
  });

  it("the TOM register's backup evidence reads the pgBackRest repository: the newest backup and its age; an unreadable repository fails", async () => {
    const newest = JSON.parse(must(tresorBackup('list')))[0];
    assert.equal(newest.id, label);
    const backupEvidence = async (a: App) => {
      const res = await a.inject({ method: 'GET', url: '/v1/tom/entries', headers: { authorization: `Bearer ${operatorKey}` } });
      assert.equal(res.statusCode, 200, res.body);
      return res.json().items.find((e: { key: string }) => e.key === 'availability.backup');
    };
    const e = await backupEvidence(app);
    assert.equal(e.status, 'met', JSON.stringify(e.evidence));
    assert.equal(e.evidence.facts.newest, newest.createdAt);
    assert.ok(e.evidence.summary.en.startsWith(`Newest backup ${newest.createdAt}`), e.evidence.summary.en);

    // The same database, a stanza the repository does not hold: not provable, so failing, with pgBackRest's reason.
    const config = loadConfig({ ...env, TRESOR_PGBACKREST_STANZA: 'no-such-stanza', TRESOR_KEY_FILE: join(dir, 'keys', 'root.key'),
      TRESOR_DATA_DIR: join(dir, 'unused'), LOG_LEVEL: 'silent', TRESOR_REQUIRE_INSTRUCTION: 'off' });
    const db = openPostgres({ url: databaseUrl, poolMax: 2, connectTimeoutMs: config.dbConnectTimeoutMs, statementTimeoutMs: config.dbStatementTimeoutMs });
    const other = await buildApp(config, createServices(config, { db, keyProvider: await openRootKey(config, db) }));
    try {
      const bad = await backupEvidence(other);
      assert.equal(bad.status, 'failing', JSON.stringify(bad.evidence));
      assert.match(bad.evidence.summary.en, /^The pgBackRest repository could not be read: pgbackrest info: /);
    } finally {
      await other.close();
      await db.close();
    }
  });

  it('a damaged file in the repository fails the restore step: failed evidence, signed, not a pass', async () => {
    // The largest file of the backup's data dir, one byte flipped in the middle (the repository is encrypted and compressed).
    const files = readdirSync(join(repo, 'backup', 'tresor', label, 'pg_data'), { recursive: true }).map((f) => join(repo, 'backup', 'tresor', label, 'pg_data', String(f)))
      .filter((f) => statSync(f).isFile()).sort((a, b) => statSync(b).size - statSync(a).size);
    const bytes = readFileSync(files[0]);
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(files[0], bytes);

    const v = await verify({});
    assert.equal(v.backupId, label, 'the newest backup is the default');
    assert.equal(v.result, 'failed');
    assert.deepEqual(v.checks.map((c: { name: string; status: string }) => [c.name, c.status]), [['restore', 'failed']]);
    assert.match(v.checks[0].detail, /pgbackrest restore/);
    assert.ok(verifyEd25519(Buffer.from(v.publicKey, 'base64'), Buffer.from(v.evidence, 'base64'), Buffer.from(v.signature, 'base64')));
    const listed = (await call('GET', '/v1/backups/verifications')).json().items;
    assert.deepEqual(listed.map((x: { result: string }) => x.result), ['failed', 'passed']);
    assert.equal(await services.verifications.lastPassedAt().then((d) => d?.getTime()), passedAt, 'the last pass stays the last pass');
    assert.ok(!existsSync(join(dir, 'restored')));
  });
});
