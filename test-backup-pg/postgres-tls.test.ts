// npm run test:backup-pg: Tresor's PostgreSQL connection over verified TLS
// (issue 11, item 4). A throwaway PostgreSQL 15 (Debian's binaries) on a free
// loopback port, as the postgres user, with ssl=on, a certificate for
// `localhost` from a CA made here, and a pg_hba.conf that admits TLS
// connections only: `tresor migrate` with sslmode=verify-full and
// TRESOR_DATABASE_CA_FILE connects; with another CA, or with a host the
// certificate does not name, it stops with `store.tls_failed`. Needs root (to
// act as postgres).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, freePort, runTresor } from '../test/helpers/security-process.ts';
import { type TestCa, makeCa, makeServerCert } from '../test/helpers/tls-certs.ts';

const PG = '/usr/lib/postgresql/15/bin';
const asPostgres = (cmd: string, args: string[]) => spawnSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8' });
const must = (r: ReturnType<typeof asPostgres>) => { assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`); return r.stdout; };

describe('PostgreSQL over TLS with sslmode=verify-full and a CA file', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tresor-pg-tls-'));
  const data = join(dir, 'pg');
  let ca: TestCa;
  let other: TestCa;
  let port: number;

  const migrate = async (host: string, caFile: string) => {
    const proc = runTresor(['migrate', '--json'], cleanEnv({ TRESOR_DATA_DIR: join(dir, 'tresor'), TRESOR_KEY_FILE: join(dir, 'root.key'),
      DATABASE_URL: `postgres://postgres@${host}:${port}/postgres?sslmode=verify-full`, TRESOR_DATABASE_CA_FILE: caFile, TRESOR_DB_CONNECT_TIMEOUT_MS: '10000' }));
    const { code } = await proc.exited;
    return { code, stdout: proc.stdout(), stderr: proc.stderr() };
  };

  before(async () => {
    execFileSync('chown', ['postgres:postgres', dir]);
    chmodSync(dir, 0o700);
    ca = makeCa(dir);
    other = makeCa(dir, 'other-ca');
    const cert = makeServerCert(ca, 'pg-server', '2001', ['localhost']);
    port = await freePort();
    must(asPostgres(`${PG}/initdb`, ['-D', data, '--auth=trust', '-U', 'postgres']));
    copyFileSync(cert.certFile, join(data, 'server.crt'));
    copyFileSync(cert.keyFile, join(data, 'server.key'));
    execFileSync('chown', ['postgres:postgres', join(data, 'server.crt'), join(data, 'server.key')]);
    chmodSync(join(data, 'server.key'), 0o600);
    // TCP connections must be TLS: a plain one matches no line and is refused.
    writeFileSync(join(data, 'pg_hba.conf'), 'local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostssl all all ::1/128 trust\n');
    writeFileSync(join(data, 'postgresql.auto.conf'), [`port = ${port}`, "listen_addresses = 'localhost'", `unix_socket_directories = '${dir}'`,
      'ssl = on', "ssl_cert_file = 'server.crt'", "ssl_key_file = 'server.key'", "ssl_min_protocol_version = 'TLSv1.2'", ''].join('\n'));
    must(asPostgres(`${PG}/pg_ctl`, ['-D', data, '-l', join(dir, 'pg.log'), '-w', 'start']));
  });
  after(() => {
    asPostgres(`${PG}/pg_ctl`, ['-D', data, '-m', 'immediate', 'stop']);
    rmSync(dir, { recursive: true, force: true });
  });

  it('connects when the certificate chains to TRESOR_DATABASE_CA_FILE and names the host', async () => {
    const res = await migrate('localhost', ca.certFile);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(JSON.parse(res.stdout), { migrated: true });
  });

  it('refuses a certificate from another CA at start, with store.tls_failed', async () => {
    const res = await migrate('localhost', other.certFile);
    assert.equal(res.code, 1);
    assert.equal(JSON.parse(res.stdout).code, 'store.tls_failed', res.stdout);
    assert.match(JSON.parse(res.stdout).detail, /PostgreSQL's certificate was not accepted/);
  });

  it('refuses a host the certificate does not name (verify-full checks the name, not only the chain)', async () => {
    const res = await migrate('127.0.0.1', ca.certFile);
    assert.equal(res.code, 1);
    assert.equal(JSON.parse(res.stdout).code, 'store.tls_failed', res.stdout);
    assert.match(JSON.parse(res.stdout).detail, /ERR_TLS_CERT_ALTNAME_INVALID/);
  });
});
