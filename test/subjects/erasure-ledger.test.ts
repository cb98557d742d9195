// An erased person stays erased across a restore: back up, erase, restore the
// backup, and the subject is gone again before the restored store serves a
// request. Embedded backups exist on PGlite only (PostgreSQL is backed up by
// pgBackRest; its restores go through the same start-up step, tested below
// with a copy of the database made before the erasure).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { buildApp } from '../../src/app.ts';
import { createServices } from '../../src/services.ts';
import { openPglite } from '../../src/db/pglite-driver.ts';
import { openPostgres } from '../../src/db/postgres-driver.ts';
import { restoreBackup } from '../../src/backup/backup-restore.ts';
import type { Db } from '../../src/db/db.ts';
import { signingKeyFromSeed } from '../../src/crypto/signing.ts';
import { canonicalJson } from '../../src/audit/audit-leaf.ts';
import { ledgerFile } from '../../src/subject-rights/erasure-ledger.ts';
import { backends, createTestDatabase, openRootKey, testConfig } from '../helpers/backends.ts';
import { seedTenant, startTestApp, type TestApp } from '../helpers/test-app.ts';
import { makeBackup } from '../backup/backup-fixture.ts';
import { tresor } from '../cli/run-cli.ts';

const orders = { name: 'orders', fields: [{ name: 'email', type: 'email', searchable: true }, { name: 'item', type: 'string', classification: 'none' }] };

async function arrange(t: TestApp) {
  const s = await seedTenant(t, 'Ledger');
  assert.equal((await t.call('POST', `/v1/tenants/${s.tenantId}/collections`, { token: s.adminKey, body: orders })).statusCode, 201);
  const rec = async (collection: string, data: Record<string, unknown>) =>
    (await t.call('POST', `/v1/tenants/${s.tenantId}/collections/${collection}/records`, { token: s.adminKey, body: { data } })).json().id as string;
  const ada = [await rec('customers', { email: 'ada@example.com', name: 'Ada' }), await rec('orders', { email: 'ada@example.com', item: 'engine' })];
  const bob = [await rec('customers', { email: 'bob@example.com', name: 'Bob' })];
  const erase = async (email: string) => {
    const res = await t.call('POST', `/v1/tenants/${s.tenantId}/subjects/erase`, { token: s.adminKey, body: { where: { email }, reason: 'Art. 17' } });
    assert.equal(res.statusCode, 200, res.body);
    return res.json();
  };
  return { ...s, ada, bob, erase };
}

/** Records with these ids in a store, read directly (no app, no ledger). */
async function present(db: Db, tenantId: string, ids: string[]): Promise<string[]> {
  const rows = await db.withTenant(tenantId, (tx) => tx.query<{ id: string }>(
    'select id::text as id from records where id in (select jsonb_array_elements_text($1::text::jsonb)::uuid) order by id', [JSON.stringify(ids)]));
  return rows.map((r) => r.id);
}

/** The restored store served by the app, as `tresor start` would; the first request is a subject lookup. */
async function serve(db: Db, config: ReturnType<typeof testConfig>) {
  const keyProvider = await openRootKey(config, db);
  const services = createServices(config, { db, keyProvider });
  const app = await buildApp(config, services);
  const operatorKey = (await services.apiKeys.createOperatorKey('restored')).key;
  return { app, services, operatorKey };
}

async function findAs(app: Awaited<ReturnType<typeof serve>>['app'], tenantId: string, key: string, email: string) {
  const res = await app.inject({ method: 'POST', url: `/v1/tenants/${tenantId}/subjects/find`, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    payload: JSON.stringify({ where: { email } }) });
  assert.equal(res.statusCode, 200, res.body);
  return (res.json().records as Array<{ id: string }>).map((r) => r.id).sort();
}

describe('erasure ledger across an embedded backup and restore [pglite]', () => {
  let t: TestApp;
  let a: Awaited<ReturnType<typeof arrange>>;
  let backupId: string;
  const scratch = mkdtempSync(join(tmpdir(), 'tresor-ledger-'));
  before(async () => {
    t = await startTestApp('pglite');
    a = await arrange(t);
    backupId = (await makeBackup(t)).id;
    await a.erase('ada@example.com');
  });
  after(async () => { await t.close(); rmSync(scratch, { recursive: true, force: true }); });

  it('the backup still holds the subject; opened by the app, the restored store has lost it before its first answer', async () => {
    const target = join(scratch, 'lib');
    const summary = t.services.backups.get(backupId)!;
    const keyProvider = await openRootKey(t.store.config, t.store.db);
    const db = await restoreBackup({ backupDir: t.store.config.backupDir, summary, target, keyProvider: () => keyProvider });
    let served: Awaited<ReturnType<typeof serve>> | undefined;
    try {
      // The premise: the snapshot predates the erasure.
      assert.deepEqual(await present(db, a.tenantId, a.ada), [...a.ada].sort());
      const config = testConfig(scratch, { TRESOR_DATA_DIR: target, TRESOR_KEY_FILE: t.store.config.keyFile, TRESOR_BACKUP_DIR: t.store.config.backupDir });
      served = await serve(db, config);
      const key = (await served.app.inject({ method: 'POST', url: `/v1/tenants/${a.tenantId}/api-keys`, headers: { authorization: `Bearer ${served.operatorKey}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ name: 'dpo', role: 'admin' }) })).json().key;
      assert.deepEqual(await findAs(served.app, a.tenantId, key, 'ada@example.com'), []);
      assert.deepEqual(await findAs(served.app, a.tenantId, key, 'bob@example.com'), a.bob);
      assert.deepEqual(await present(db, a.tenantId, a.ada), []);
      // The restored store now carries the entry: a later backup of it keeps the erasure.
      const rows = await db.withTenant(a.tenantId, (tx) => tx.query('select reapplied_at from erasure_ledger'));
      assert.equal(rows.length, 1);
      assert.ok(rows[0].reapplied_at);
    } finally {
      await served?.app.close();
      await db.close();
    }
  });

  it('tresor backup restore re-applies the ledger itself: the new data dir lacks the subject before any server opens it', async () => {
    const target = join(scratch, 'cli');
    const run = await tresor(['backup', 'restore', backupId, '--to', target, '--json'],
      { TRESOR_BACKUP_DIR: t.store.config.backupDir, TRESOR_KEY_FILE: t.store.config.keyFile, TRESOR_DATA_DIR: join(scratch, 'unused') });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).erasuresReapplied, 1);
    const db = await openPglite(join(target, 'pglite'));
    try {
      assert.deepEqual(await present(db, a.tenantId, a.ada), []);
      assert.deepEqual(await present(db, a.tenantId, a.bob), a.bob);
    } finally { await db.close(); }
  });

  it('a restore verification re-applies the ledger and checks that no erased subject is findable', async () => {
    const v = await t.services.verifications.verify({ type: 'system', id: 'test', name: 'test', role: 'system', tenantId: null }, backupId);
    const c = v.checks.find((x) => x.name === 'erasure_ledger')!;
    assert.equal(c.status, 'passed', c.detail);
    assert.match(c.detail, /1 ledger entry .*1 re-applied to the copy \(2 record\(s\) deleted\); none of the 1 erased subject\(s\) findable/);
    assert.equal(v.result, 'passed');
  });

  it('a line that does not verify stops the restore check and the server start: nothing is skipped silently', async () => {
    const file = ledgerFile(t.store.config.backupDir);
    const original = readFileSync(file);
    const forger = signingKeyFromSeed(Buffer.alloc(32, 7));
    const entry = Buffer.from(canonicalJson({ v: 1, id: '0190a000-0000-7000-8000-000000000001', tenantId: a.tenantId, erasedAt: new Date().toISOString(), groups: [], recordIds: a.bob }));
    appendFileSync(file, `${JSON.stringify({ entry: entry.toString('utf8'), signature: forger.sign(entry).toString('base64') })}\n`);
    try {
      const v = await t.services.verifications.verify({ type: 'system', id: 'test', name: 'test', role: 'system', tenantId: null }, backupId);
      const c = v.checks.find((x) => x.name === 'erasure_ledger')!;
      assert.equal(c.status, 'failed');
      assert.match(c.detail, /line 2: signature does not verify/);
      assert.equal(v.result, 'failed');
      const target = join(scratch, 'forged');
      const keyProvider = await openRootKey(t.store.config, t.store.db);
      const db = await restoreBackup({ backupDir: t.store.config.backupDir, summary: t.services.backups.get(backupId)!, target, keyProvider: () => keyProvider });
      try {
        const config = testConfig(scratch, { TRESOR_DATA_DIR: target, TRESOR_KEY_FILE: t.store.config.keyFile, TRESOR_BACKUP_DIR: t.store.config.backupDir });
        const services = createServices(config, { db, keyProvider });
        const app = await buildApp(config, services);
        await assert.rejects(async () => { await app.ready(); }, /signature does not verify/);
        await app.close().catch(() => {});
        assert.deepEqual(await present(db, a.tenantId, a.bob), a.bob, 'the forged line deleted nothing');
      } finally { await db.close(); }
    } finally { writeFileSync(file, original); }
  });
});

// PostgreSQL: the database is brought back to a copy taken before the erasure
// (CREATE DATABASE … TEMPLATE, as a pgBackRest restore would), and the app
// opened on it serves no erased subject.
for (const backend of backends.filter((b) => b === 'postgres')) {
  describe(`erasure ledger re-applied when a server starts on an older copy [${backend}]`, () => {
    it('the copy holds the subject; the app opened on it has lost it before its first answer', async () => {
      const t = await startTestApp('postgres');
      const copy = await createTestDatabase();
      const copyName = new URL(copy.url).pathname.slice(1);
      const admin = postgres(process.env.TEST_DATABASE_URL!, { max: 1, onnotice: () => {} });
      let db: Db | undefined;
      let app: Awaited<ReturnType<typeof serve>>['app'] | undefined;
      try {
        const a = await arrange(t);
        // The "backup": a copy of the database before the erasure (no session may be connected to the template).
        const source = new URL(t.store.databaseUrl!).pathname.slice(1);
        await admin.unsafe(`drop database ${copyName}`);
        await admin.unsafe(`select pg_terminate_backend(pid) from pg_stat_activity where datname = '${source}' and pid <> pg_backend_pid()`);
        await admin.unsafe(`create database ${copyName} template ${source}`);
        await a.erase('ada@example.com');
        db = openPostgres({ url: copy.url, poolMax: 2, connectTimeoutMs: 10_000, statementTimeoutMs: 60_000 });
        assert.deepEqual(await present(db, a.tenantId, a.ada), [...a.ada].sort());
        const config = testConfig(t.store.dir, { DATABASE_URL: copy.url, TRESOR_BACKUP_DIR: t.store.config.backupDir });
        const served = await serve(db, config);
        app = served.app;
        const key = (await app.inject({ method: 'POST', url: `/v1/tenants/${a.tenantId}/api-keys`, headers: { authorization: `Bearer ${served.operatorKey}`, 'content-type': 'application/json' },
          payload: JSON.stringify({ name: 'dpo', role: 'admin' }) })).json().key;
        assert.deepEqual(await findAs(app, a.tenantId, key, 'ada@example.com'), []);
        assert.deepEqual(await findAs(app, a.tenantId, key, 'bob@example.com'), a.bob);
      } finally {
        await app?.close();
        await db?.close();
        await admin.end();
        await copy.drop();
        await t.close();
      }
    });
  });
}
