// Encryption at rest (M1.2, I): personal and special field values must never
// reach the database in clear, through any write path (create, patch,
// import). A field classified 'none' is stored in clear on purpose and serves
// as the control that proves the scan would have found a leak.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { filesUnder, findNeedles, scanFiles } from '../helpers/security-scan.ts';
import { seedTenant, startTestApp, type TestApp } from '../helpers/test-app.ts';

const run = promisify(execFile);

// Each secret is listed as the fragments a leak would show (values are
// normalised before storage, e.g. e-mails lower-cased, phones in E.164).
const created = {
  email: 'ZQ-7781-Unique@Plain-Check.example', name: 'Zyxwvut Plaintextcheck', phone: '+44 20 7946 0958',
  birthdate: '1911-11-23', address: { street: 'Qwertzuiopstrasse 77', city: 'Xylophonburg' }, tier: 'control-Vorlautwert-5512',
};
const patched = { name: 'Kwyjibo Patchedname', address: { street: 'Jabberwockygasse 3' }, tier: 'control-Patchkontrolle-3391' };
const imported = {
  email: 'imp-4471-quux@bulk-check.example', name: 'Vexbold Importfrau', phone: '+33 1 09 75 83 51',
  birthdate: '1899-02-17', address: { street: 'Flibbertigibbetweg 12' }, tier: 'control-Importkontrolle-8820',
};
const secrets = [
  'zq-7781-unique', 'plain-check.example', 'zyxwvut', 'plaintextcheck', '2079460958', '1911-11-23', 'qwertzuiopstrasse', 'xylophonburg',
  'kwyjibo', 'patchedname', 'jabberwockygasse',
  'imp-4471-quux', 'bulk-check.example', 'vexbold', 'importfrau', '109758351', '1899-02-17', 'flibbertigibbetweg',
];
// Every control ever written (the PATCH leaves a dead row version in the files);
// a dump holds only the live ones.
const controls = [created.tier, patched.tier, imported.tier];
const liveControls = [patched.tier, imported.tier];

async function writeEveryWay(t: TestApp) {
  const { key, base } = await seedTenant(t, 'Plaintext Check GmbH');
  const res = await t.call('POST', base, { token: key, body: { data: created } });
  assert.equal(res.statusCode, 201, res.body);
  const { id } = res.json();
  // Creates a new row version: the old one stays in the heap until vacuum.
  const upd = await t.call('PATCH', `${base}/${id}`, { token: key, body: { data: patched } });
  assert.equal(upd.statusCode, 200, upd.body);
  const imp = await t.call('POST', `${base}/import`, { token: key, body: `${JSON.stringify({ data: imported })}\n`,
    headers: { 'content-type': 'application/x-ndjson' } });
  assert.equal(imp.statusCode, 200, imp.body);
  assert.equal(imp.json().imported, 1, imp.body);
  // A lookup writes nothing either; it must still find the record.
  const found = await t.call('POST', `${base}/search`, { token: key, body: { where: { email: created.email } } });
  assert.deepEqual(found.json().items.map((r: { id: string }) => r.id), [id]);
  const back = (await t.call('GET', `${base}/${id}`, { token: key })).json();
  assert.equal(back.data.name, patched.name, 'the values are really stored, just not in clear');
}

function assertNoLeak(where: string, haystack: Buffer) {
  assert.deepEqual(findNeedles(haystack, liveControls), liveControls, `${where}: the 'none' controls must be found, or the scan proves nothing`);
  assert.deepEqual(findNeedles(haystack, secrets), [], `${where}: personal values in clear`);
}

describe('no plaintext personal data in the store [pglite on disk]', () => {
  let t: TestApp;
  let dataDir: string;
  before(async () => {
    t = await startTestApp('pglite', { onDisk: true });
    dataDir = join(t.store.dir, 'data', 'pglite');
    await writeEveryWay(t);
    // Close without deleting: PGlite checkpoints on close, so every page is in the files.
    await t.services.rotation.idle();
    await t.app.close();
    await t.store.db.close();
  });
  after(async () => t.store.close());

  it('finds the controls but no personal value in any file of the data dir (heap, WAL, everything)', () => {
    const files = filesUnder(dataDir);
    assert.ok(files.length > 10, `expected a PGlite data dir, found ${files.length} files`);
    const hits = scanFiles(files, [...secrets, ...controls]);
    for (const c of controls) assert.ok(hits.has(c), `control '${c}' not found in any file: the scan proves nothing`);
    const leaks = secrets.filter((s) => hits.has(s)).map((s) => `${s} in ${hits.get(s)!.join(', ')}`);
    assert.deepEqual(leaks, []);
  });
});

describe('no plaintext personal data in the store [postgres]', { skip: !process.env.TEST_DATABASE_URL && 'TEST_DATABASE_URL not set' }, () => {
  let t: TestApp;
  let admin: postgres.Sql;
  let startLsn: string;
  before(async () => {
    t = await startTestApp('postgres');
    admin = postgres(t.store.databaseUrl!, { max: 1, onnotice: () => {} });
    startLsn = (await admin`select pg_current_wal_lsn()::text as lsn`)[0]!.lsn;
    await writeEveryWay(t);
  });
  after(async () => {
    await admin.end();
    await t.close();
  });

  it('pg_dump --data-only holds the controls but no personal value', async () => {
    const { stdout } = await run('pg_dump', ['--data-only', '--no-owner', t.store.databaseUrl!], { maxBuffer: 256 * 1024 * 1024, encoding: 'buffer' });
    assert.ok(stdout.length > 0);
    assertNoLeak('pg_dump', stdout);
  });

  // The dump shows live rows only; the files also hold dead row versions
  // (the PATCH) and the WAL. Readable only when the test runs next to the
  // server with access to its data directory.
  it("the database's own files and this test's WAL hold no personal value", async (ctx) => {
    const [info] = await admin`select current_setting('data_directory') as dir,
      (select oid from pg_database where datname = current_database())::text as oid`;
    const dbDir = join(info!.dir, 'base', info!.oid);
    try { accessSync(dbDir, constants.R_OK); } catch { return ctx.skip('the server data directory is not readable here'); }
    await admin`checkpoint`;
    const [wal] = await admin`select pg_walfile_name(${startLsn}::pg_lsn) as first, pg_walfile_name(pg_current_wal_lsn()) as last`;
    const walDir = join(info!.dir, 'pg_wal');
    const walFiles = filesUnder(walDir).filter((f) => { const n = f.slice(walDir.length + 1); return n.length === 24 && n >= wal!.first && n <= wal!.last; });
    assert.ok(walFiles.length > 0 && walFiles.every(existsSync));
    const hits = scanFiles([...filesUnder(dbDir), ...walFiles], [...secrets, ...controls]);
    for (const c of controls) assert.ok(hits.has(c), `control '${c}' not found in the files: the scan proves nothing`);
    assert.deepEqual(secrets.filter((s) => hits.has(s)), []);
  });
});
