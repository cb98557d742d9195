// Crypto-shredding that reaches copies: every key of a tenant is wrapped under
// a KEK derived from the root key and a secret kept outside the database
// (TRESOR_TENANT_KEY_DIR). The purge destroys that secret first, so a backup
// made before the purge, once restored, decrypts nothing of the tenant; other
// tenants read as before. Stores made before per-tenant KEKs are re-wrapped
// at start, and a kill -9 midway leaves every key readable.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { restoreBackup } from '../../src/backup/backup-restore.ts';
import { wrapDataKey, type KeyPurpose } from '../../src/crypto/keyring.ts';
import type { Db } from '../../src/db/db.ts';
import { toBuffer } from '../../src/db/db.ts';
import { openPostgres } from '../../src/db/postgres-driver.ts';
import { rewrapTenantKeys, type Wrapping } from '../../src/keys/tenant-keks.ts';
import { backends, openRootKey, type BackendName } from '../helpers/backends.ts';
import { seedTenant, startTestApp, type TestApp } from '../helpers/test-app.ts';
import { assertProblem } from '../helpers/problem.ts';
import { manualClock } from '../helpers/people.ts';
import { makeBackup, openRestored } from '../backup/backup-fixture.ts';
import { bin } from '../cli/run-cli.ts';

const DAY = 86_400_000;

// One app per backend serves every suite of this file. The PGlite one runs on
// a clock that only the backup suite (the last to use it) moves on.
const clock = manualClock(Date.now());
const apps = new Map<BackendName, Promise<TestApp>>();
const appOn = (backend: BackendName) => {
  if (!apps.has(backend)) apps.set(backend, startTestApp(backend, backend === 'pglite' ? { now: clock.now } : {}));
  return apps.get(backend)!;
};
after(async () => { for (const app of apps.values()) await (await app).close(); });
const members = { name: 'members', fields: [{ name: 'email', type: 'email', pseudonymize: true }] };
type Seeded = Awaited<ReturnType<typeof seedTenant>>;

async function arrange(t: TestApp, name: string) {
  const s = await seedTenant(t, name);
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await t.call('POST', s.base, { token: s.key, body: { data: { email: `p${i}@${name.toLowerCase()}.example`, name: `Person ${i}`, tier: 'gold' } } });
    assert.equal(res.statusCode, 201, res.body);
    ids.push(res.json().id);
  }
  assert.equal((await t.call('POST', `/v1/tenants/${s.tenantId}/collections`, { token: s.adminKey, body: members })).statusCode, 201);
  assert.equal((await t.call('POST', `/v1/tenants/${s.tenantId}/collections/members/records`, { token: s.key, body: { data: { email: `m@${name.toLowerCase()}.example` } } })).statusCode, 201);
  return { ...s, ids };
}

/** Every key row of a tenant with its wrapping, read as the owner. */
async function keyRows(db: Db, tenantId: string) {
  return db.transaction(async (tx) => {
    await tx.query("select set_config('app.tenant_id', $1, true)", [tenantId]);
    return tx.query<{ purpose: KeyPurpose; version: number; wrapped: Uint8Array; wrapping: Wrapping }>(`select purpose, version, wrapped, wrapping from tenant_keys where tenant_id = $1
      union all select 'pseudonym', version, wrapped, wrapping from pseudonym_keys where tenant_id = $1 and wrapped is not null order by 1, 2`, [tenantId]);
  });
}

/**
 * Turns a tenant back into what a store made before per-tenant KEKs holds:
 * every key row wrapped under the root key alone, no secret, no mark.
 */
async function makeOld(t: TestApp, tenantId: string) {
  const keyProvider = await openRootKey(t.store.config, t.store.db);
  const rows = await keyRows(t.store.db, tenantId);
  await t.store.db.transaction(async (tx) => {
    await tx.query("select set_config('app.tenant_id', $1, true)", [tenantId]);
    for (const r of rows) {
      const p = { tenantId, purpose: r.purpose, version: r.version };
      const wrapped = wrapDataKey(keyProvider, t.services.tenantKeks.unwrap(toBuffer(r.wrapped), r.wrapping, p), p);
      if (r.purpose === 'pseudonym') await tx.query("update pseudonym_keys set wrapped = $3, wrapping = 'root' where tenant_id = $1 and version = $2", [tenantId, r.version, wrapped]);
      else await tx.query("update tenant_keys set wrapped = $4, wrapping = 'root' where tenant_id = $1 and purpose = $2 and version = $3", [tenantId, r.purpose, r.version, wrapped]);
    }
    await tx.query('update tenants set tenant_kek_at = null where id = $1', [tenantId]);
  });
  rmSync(join(t.services.tenantKeks.secrets.dir, `${tenantId}.key`));
  t.services.keys.forget(tenantId);
}

const readsAll = async (t: TestApp, s: Seeded & { ids: string[] }) => {
  t.services.keys.forget(s.tenantId);
  const res = await t.call('GET', `${s.base}?limit=10`, { token: s.key });
  assert.equal(res.statusCode, 200, res.body);
  assert.deepEqual(res.json().items.map((r: { id: string }) => r.id).sort(), [...s.ids].sort());
  const m = await t.call('GET', `/v1/tenants/${s.tenantId}/collections/members/records?limit=10`, { token: s.key });
  assert.equal(m.statusCode, 200, m.body);
};

for (const backend of backends) {
  describe(`tenant key secrets outside the database [${backend}]`, () => {
    let t: TestApp;
    before(async () => { t = await appOn(backend); });

    it('a new tenant gets its secret file (0600, in TRESOR_TENANT_KEY_DIR beside the root key) and every key row is tenant-wrapped', async () => {
      const s = await arrange(t, 'Fresh');
      const dir = t.services.tenantKeks.secrets.dir;
      assert.equal(dir, join(t.store.dir, 'keys', 'tenants'));
      const st = statSync(join(dir, `${s.tenantId}.key`));
      assert.equal(st.size, 32);
      assert.equal(st.mode & 0o777, 0o600);
      const rows = await keyRows(t.store.db, s.tenantId);
      assert.deepEqual(rows.map((r) => `${r.purpose}:${r.wrapping}`), ['data:tenant', 'index:tenant', 'pseudonym:tenant']);
    });

    it('a node without the tenant\'s secret answers 503 keys.tenant_secret_missing, others tenants read on; with the file back it reads again', async () => {
      const s = await arrange(t, 'Missing');
      const other = await arrange(t, 'Other');
      const file = join(t.services.tenantKeks.secrets.dir, `${s.tenantId}.key`);
      renameSync(file, `${file}.away`);
      try {
        t.services.keys.forget(s.tenantId);
        const res = await t.call('GET', `${s.base}?limit=10`, { token: s.key });
        assertProblem(res, 503, 'keys.tenant_secret_missing');
        assert.doesNotMatch(res.body, /missing\.example|Person/);
        // Nor does it make a second secret for the tenant: a key added there would open on no other node.
        assertProblem(await t.call('POST', `/v1/tenants/${s.tenantId}/keys/rotate`, { token: s.adminKey }), 503, 'keys.tenant_secret_missing');
        assert.equal(existsSync(file), false, 'no new secret was made');
        await readsAll(t, other);
      } finally { renameSync(`${file}.away`, file); }
      await readsAll(t, s);
    });

    it('start-up re-wraps root-wrapped keys of an older store under tenant KEKs, once; the data reads the same', async () => {
      const s = await arrange(t, 'Older');
      await makeOld(t, s.tenantId);
      assert.deepEqual((await keyRows(t.store.db, s.tenantId)).map((r) => r.wrapping), ['root', 'root', 'root']);
      await readsAll(t, s);
      const keyProvider = await openRootKey(t.store.config, t.store.db);
      const first = await rewrapTenantKeys(t.store.db, t.services.tenantKeks, keyProvider);
      assert.equal(first.rewrapped, 1);
      assert.deepEqual((await keyRows(t.store.db, s.tenantId)).map((r) => r.wrapping), ['tenant', 'tenant', 'tenant']);
      assert.ok(existsSync(join(t.services.tenantKeks.secrets.dir, `${s.tenantId}.key`)));
      await readsAll(t, s);
      assert.deepEqual(await rewrapTenantKeys(t.store.db, t.services.tenantKeks, keyProvider), { rewrapped: 0, shredded: [] });
    });
  });
}

// The embedded backup exists on PGlite; PostgreSQL copies are covered by the
// raw-row copy of test/tenants/closure.test.ts (both backends) and below.
describe('a backup made before the purge, restored, decrypts nothing of the purged tenant [pglite]', () => {
  let t: TestApp;
  let gone: Awaited<ReturnType<typeof arrange>>;
  let kept: Awaited<ReturnType<typeof arrange>>;
  let backupId: string;
  const scratch = mkdtempSync(join(tmpdir(), 'tresor-shred-'));
  before(async () => {
    t = await appOn('pglite');
    gone = await arrange(t, 'Gone');
    kept = await arrange(t, 'Kept');
    backupId = (await makeBackup(t)).id;
    assert.equal((await t.call('POST', `/v1/tenants/${gone.tenantId}/close`)).statusCode, 200);
    clock.advance(400 * DAY);
    assert.deepEqual((await t.services.purge.purgeDue()).map((p) => p.tenantId), [gone.tenantId]);
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('restored into a new data dir with the same keys: the purged tenant answers 409 tenant.keys_destroyed, never plaintext; the other reads fine', async () => {
    const target = join(scratch, 'restored');
    const keyProvider = await openRootKey(t.store.config, t.store.db);
    const db = await restoreBackup({ backupDir: t.store.config.backupDir, summary: t.services.backups.get(backupId)!, target, keyProvider: () => keyProvider });
    // The premise: the copy still holds the tenant's rows and wrapped keys.
    assert.equal((await keyRows(db, gone.tenantId)).length, 3);
    const [{ n }] = await db.withTenant(gone.tenantId, (tx) => tx.query<{ n: number }>('select count(*)::int as n from records'));
    assert.equal(n, 4);
    const app = await openRestored(target, t.store.config.keyFile, db);
    try {
      const call = (url: string, token: string, method = 'GET') => app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${token}` } });
      for (const url of [`${gone.base}?limit=10`, `${gone.base}/${gone.ids[0]}`, `/v1/tenants/${gone.tenantId}/collections/members/records?limit=10`]) {
        const res = await call(url, gone.key);
        assertProblem(res, 409, 'tenant.keys_destroyed');
        assert.doesNotMatch(res.body, /gone\.example|Person/);
      }
      const kr = await call(`${kept.base}?limit=10`, kept.key);
      assert.equal(kr.statusCode, 200, kr.body);
      assert.deepEqual(kr.json().items.map((r: { data: { email: string } }) => r.data.email).sort(), ['p0@kept.example', 'p1@kept.example', 'p2@kept.example']);
    } finally { await app.closeAll(); }
  });

  it('a restore verification of that backup passes and reports the purged tenant as shredded', async () => {
    const v = await t.services.verifications.verify({ type: 'system', id: 'test', name: 'test', role: 'system', tenantId: null }, backupId);
    const c = v.checks.find((x) => x.name === 'record_decryption')!;
    assert.equal(c.status, 'passed', c.detail);
    assert.match(c.detail, new RegExp(`1 tenant\\(s\\) shredded since the backup .*${gone.tenantId}`));
    assert.equal(v.result, 'passed');
  });
});

// kill -9 during the start-up re-wrap: `tresor migrate` (which re-wraps) is
// stopped while the second tenant's transaction waits on a row this test
// locks, after the first tenant was re-wrapped and the second's secret made.
for (const backend of backends.filter((b) => b === 'postgres')) {
  describe(`kill -9 during the start-up re-wrap leaves every key readable [${backend}]`, () => {
    it('first tenant re-wrapped, second still root-wrapped; both read; the next start finishes the job', async () => {
      const t = await appOn(backend);
      const other = openPostgres({ url: t.store.databaseUrl!, poolMax: 2, connectTimeoutMs: 10_000, statementTimeoutMs: 60_000 });
      try {
        const a = [await arrange(t, 'First'), await arrange(t, 'Second')].sort((x, y) => x.tenantId.localeCompare(y.tenantId));
        for (const s of a) await makeOld(t, s.tenantId);
        let release!: () => void;
        const held = new Promise<void>((r) => { release = r; });
        let locked!: () => void;
        const isLocked = new Promise<void>((r) => { locked = r; });
        const holder = other.transaction(async (tx) => {
          await tx.query('select id from tenants where id = $1 for update', [a[1].tenantId]);
          locked();
          await held;
        });
        await isLocked;
        const child = spawn(process.execPath, [bin, 'migrate'], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp',
          DATABASE_URL: t.store.databaseUrl!, TRESOR_KEY_FILE: t.store.config.keyFile, TRESOR_DATA_DIR: join(t.store.dir, 'data'), LOG_LEVEL: 'silent',
          TRESOR_ENVIRONMENT: t.store.config.environment }, stdio: 'ignore' });
        const exited = new Promise<string | null>((r) => child.on('exit', (_code, signal) => r(signal)));
        // Wait (by asking the server, not by sleeping) until the child waits on the locked tenant row.
        for (;;) {
          const [{ n }] = await t.store.db.query<{ n: number }>(`select count(*)::int as n from pg_stat_activity
            where datname = current_database() and wait_event_type = 'Lock' and query like '%for update%'`);
          if (n > 0) break;
          await new Promise((r) => setImmediate(r));
        }
        child.kill('SIGKILL');
        assert.equal(await exited, 'SIGKILL');
        release();
        await holder;
        assert.deepEqual((await keyRows(t.store.db, a[0].tenantId)).map((r) => r.wrapping), ['tenant', 'tenant', 'tenant']);
        assert.deepEqual((await keyRows(t.store.db, a[1].tenantId)).map((r) => r.wrapping), ['root', 'root', 'root']);
        assert.ok(existsSync(join(t.services.tenantKeks.secrets.dir, `${a[1].tenantId}.key`)), 'the second secret was made before its transaction');
        for (const s of a) await readsAll(t, s);
        const again = await rewrapTenantKeys(t.store.db, t.services.tenantKeks, await openRootKey(t.store.config, t.store.db));
        assert.equal(again.rewrapped, 1);
        for (const s of a) {
          assert.deepEqual((await keyRows(t.store.db, s.tenantId)).map((r) => r.wrapping), ['tenant', 'tenant', 'tenant']);
          await readsAll(t, s);
        }
      } finally {
        await other.close();
      }
    });
  });
}
