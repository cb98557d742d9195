// `tresor tenant clone --pseudonymize`, run as an operator runs it: refused
// without the flag, into a production target, or into a target that has the
// tenant; otherwise the target holds the tenant's collections and as many
// records, none of them carrying a source personal value (every row of every
// target table is scanned), all readable with the target's own keys.
// The CLI runs the refusals without the flag and into production and the
// clone itself; the refusal into a target that has the tenant is cloneTenant's
// (what the CLI calls), run in this process.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BackendName, backends, createTestDatabase, openRootKey, testConfig } from '../helpers/backends.ts';
import { migratedPgliteImage } from '../helpers/migrated-images.ts';
import { openStore } from '../../src/main.ts';
import { cloneTenant } from '../../src/environments/clone.ts';
import { startTestApp, type TestApp } from '../helpers/test-app.ts';
import { tresor } from '../cli/run-cli.ts';
import { openPglite } from '../../src/db/pglite-driver.ts';
import { openPostgres } from '../../src/db/postgres-driver.ts';
import { createServices } from '../../src/services.ts';
import { buildApp } from '../../src/app.ts';
import type { Db } from '../../src/db/db.ts';

const people = [
  { email: 'margarethe.steiff@giengen.example', name: 'Margarethe Steiff', phone: '+49 7322 131 0', birthdate: '1847-07-24', address: { street: 'Margarete-Steiff-Platz 1' }, tier: 'gold' },
  { email: 'bertha.benz@pforzheim.example', name: 'Bertha Benz', phone: '+49 7231 39 0', birthdate: '1849-05-03', tier: 'silver' },
  { email: 'hedwig.dohm@berlin.example', name: 'Hedwig Dohm', phone: '+49 30 901820', birthdate: '1831-09-20', tier: 'gold' },
];
const customers = { name: 'customers', fields: [
  { name: 'email', type: 'email', unique: true, pseudonymize: true },
  { name: 'name', type: 'string', required: true, maxLength: 100 },
  { name: 'phone', type: 'phone', searchable: true },
  { name: 'birthdate', type: 'date', classification: 'special' },
  { name: 'address', type: 'json' },
  { name: 'tier', type: 'string', classification: 'none' },
] };

/**
 * A target store as an operator prepares one: a deployment's store (a copy
 * of a migrated one) opened with its TRESOR_ENVIRONMENT and a root key of its
 * own by `tresor migrate`, or with `inProcess` by what `tresor migrate` runs
 * (openStore: migrations, the declared environment, a new root key).
 */
async function prepareTarget(backend: BackendName, scratch: string, name: string, environment: string, opts: { inProcess?: boolean } = {}) {
  const keyFile = join(scratch, `${name}-keys`, 'root.key');
  let to: string;
  let drop = async () => {};
  if (backend === 'postgres') {
    const created = await createTestDatabase({ migrated: true });
    to = created.url;
    drop = created.drop;
  } else {
    to = join(scratch, name);
    // The migrated image, written out once per scratch dir and copied for each target.
    const migrated = join(scratch, 'migrated-pglite');
    if (!existsSync(migrated)) await (await openPglite(migrated, { loadDataDir: await migratedPgliteImage() })).close();
    cpSync(migrated, join(to, 'pglite'), { recursive: true });
  }
  const env = { ...(backend === 'postgres' ? { DATABASE_URL: to } : { TRESOR_DATA_DIR: to }), TRESOR_KEY_FILE: keyFile, TRESOR_ENVIRONMENT: environment };
  if (opts.inProcess) {
    const { db } = await openStore(testConfig(join(scratch, `${name}-config`), env));
    await db.close();
  } else {
    const run = await tresor(['migrate'], env);
    assert.equal(run.code, 0, run.stderr);
  }
  return { to, keyFile, drop, args: ['--to', to, '--to-key-file', keyFile] };
}

/** How many tenants a target holds, read directly. */
async function tenantsIn(backend: BackendName, target: { to: string }) {
  const db: Db = backend === 'postgres'
    ? openPostgres({ url: target.to, poolMax: 1, connectTimeoutMs: 5000, statementTimeoutMs: 30000 })
    : await openPglite(join(target.to, 'pglite'));
  try {
    return (await db.query('select id from tenants')).length;
  } finally { await db.close(); }
}

/** Opens a target store in this process, as its own deployment would (its root key, its services). */
async function openTarget(backend: BackendName, scratch: string, target: { to: string; keyFile: string }) {
  const db: Db = backend === 'postgres'
    ? openPostgres({ url: target.to, poolMax: 2, connectTimeoutMs: 5000, statementTimeoutMs: 30000 })
    : await openPglite(join(target.to, 'pglite'));
  const config = testConfig(join(scratch, 'target-config'), { TRESOR_KEY_FILE: target.keyFile, ...(backend === 'postgres' ? { DATABASE_URL: target.to } : {}) });
  const keyProvider = await openRootKey(config, db);
  const services = createServices(config, { db, keyProvider });
  const app = await buildApp(config, services);
  const { key } = await services.apiKeys.createOperatorKey('inspect');
  return { db, app, keyProvider, config, operatorKey: key, close: async () => { await app.close(); await db.close(); } };
}

for (const backend of backends) {
  describe(`tresor tenant clone [${backend}]`, () => {
    const scratch = mkdtempSync(join(tmpdir(), 'tresor-clone-'));
    let t: TestApp;
    let tenantId: string;
    let sourceEnv: Record<string, string>;
    let sourceKeyId: string;
    const drops: Array<() => Promise<void>> = [];
    // The test deployment the clone goes into, prepared with a real `tresor migrate`;
    // the refusal without --pseudonymize is tried on it first.
    let target: Awaited<ReturnType<typeof prepareTarget>>;

    before(async () => {
      t = await startTestApp(backend, { onDisk: true, env: { TRESOR_ENVIRONMENT: 'production' } });
      tenantId = (await t.call('POST', '/v1/tenants', { body: { name: 'Source GmbH' } })).json().id;
      const admin = (await t.call('POST', `/v1/tenants/${tenantId}/api-keys`, { body: { name: 'admin', role: 'admin' } })).json().key;
      assert.equal((await t.call('POST', `/v1/tenants/${tenantId}/collections`, { token: admin, body: customers })).statusCode, 201);
      for (const data of people) {
        const res = await t.call('POST', `/v1/tenants/${tenantId}/collections/customers/records`, { token: admin, body: { data } });
        assert.equal(res.statusCode, 201, res.body);
      }
      sourceKeyId = (await openRootKey(t.store.config, t.store.db)).keyId;
      sourceEnv = { TRESOR_KEY_FILE: t.store.config.keyFile, TRESOR_ENVIRONMENT: 'production',
        ...(backend === 'postgres' ? { DATABASE_URL: t.store.databaseUrl! } : { TRESOR_DATA_DIR: t.store.config.dataDir }) };
      // The embedded store has one owner: the CLI opens it once this process has let go.
      if (backend === 'pglite') { await t.app.close(); await t.store.db.close(); }
      target = await prepareTarget(backend, scratch, 'ok', 'test');
      drops.push(target.drop);
    });
    after(async () => {
      if (backend === 'postgres') await t.close();
      for (const drop of drops) await drop();
      rmSync(scratch, { recursive: true, force: true });
      if (backend === 'pglite') rmSync(t.store.dir, { recursive: true, force: true });
    });

    it('refuses a clone without --pseudonymize, and one into a production target, copying nothing', async () => {
      const plain = await tresor(['tenant', 'clone', '--tenant', tenantId, ...target.args], sourceEnv);
      assert.equal(plain.code, 1, plain.stdout);
      assert.match(plain.stderr, /\[clone\.not_pseudonymized\].*--pseudonymize/);

      const prod = await prepareTarget(backend, scratch, 'prod', 'production', { inProcess: true });
      drops.push(prod.drop);
      const run = await tresor(['tenant', 'clone', '--tenant', tenantId, ...prod.args, '--pseudonymize', '--json'], sourceEnv);
      assert.equal(run.code, 1, run.stderr);
      assert.equal(JSON.parse(run.stdout).code, 'clone.target_production');
      for (const x of [target, prod]) assert.equal(await tenantsIn(backend, x), 0, 'nothing copied');
    });

    it('copies the tenant pseudonymised: no source personal value anywhere in the target, which reads it with its own keys', async () => {
      const run = await tresor(['tenant', 'clone', '--tenant', tenantId, ...target.args, '--pseudonymize', '--json'], sourceEnv);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.deepEqual(JSON.parse(run.stdout), { tenantId, collections: 1, records: 3, targetEnvironment: 'test' });
      assert.match(run.stderr, /clone .*3\/3 records/, 'progress reported');

      const opened = await openTarget(backend, scratch, target);
      try {
        assert.notEqual(opened.keyProvider.keyId, sourceKeyId, 'the target has a root key of its own');
        const owner = (await opened.app.inject({ method: 'POST', url: `/v1/tenants/${tenantId}/api-keys`, headers: { authorization: `Bearer ${opened.operatorKey}` },
          payload: { name: 'owner', role: 'owner' } })).json().key;
        const list = await opened.app.inject({ url: `/v1/tenants/${tenantId}/collections/customers/records?limit=100`, headers: { authorization: `Bearer ${owner}` } });
        assert.equal(list.statusCode, 200, list.body);
        const items = list.json().items as Array<{ data: Record<string, unknown>; pseudonyms: Record<string, string> }>;
        assert.equal(items.length, 3);
        // Readable, realistic and valid: e-mails and phones pass the field types' validation on the way in.
        for (const r of items) {
          assert.match(String(r.data.email), /^[a-z0-9.-]+@example\.com$/);
          assert.match(String(r.data.phone), /^\+4930\d{8}$/);
          assert.match(String(r.data.birthdate), /^\d{4}-\d{2}-\d{2}$/);
          assert.equal(typeof r.data.name, 'string');
          assert.equal(r.data.address, undefined, 'free-form JSON is dropped');
        }
        assert.deepEqual(items.map((r) => r.data.tier).sort(), people.map((p) => p.tier).sort(), 'fields classified none are copied as they are');
        // The target's pseudonyms resolve under its own pseudonym key.
        const back = await opened.app.inject({ method: 'POST', url: `/v1/tenants/${tenantId}/pseudonyms/resolve`, headers: { authorization: `Bearer ${owner}` },
          payload: { collection: 'customers', field: 'email', pseudonym: items[0].pseudonyms.email, reason: 'clone check' } });
        assert.equal(back.json().value, items[0].data.email, back.body);

        // Every row of every table of the target, as text, holds none of the source's personal values.
        const tables = await opened.db.query<{ name: string }>("select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'");
        let dump = JSON.stringify(items);
        for (const { name } of tables) dump += (await opened.db.query<{ t: string | null }>(`select string_agg(x::text, E'\\n') as t from "${name}" x`))[0].t ?? '';
        const secrets = people.flatMap((p) => [p.email, p.name, p.birthdate, p.phone.replace(/ /g, ''), p.email.split('@')[0], p.name.split(' ')[1], 'Margarete-Steiff-Platz']);
        for (const s of secrets) assert.ok(!dump.toLowerCase().includes(s.toLowerCase()), `the target holds a source value (${s.slice(0, 3)}…)`);
        assert.ok(dump.includes('Source GmbH') && dump.includes('customers'), 'the scan did see the target\'s rows');

        // A second clone of the same tenant into it is refused (cloneTenant, as the CLI runs it on the source's store).
        const sourceConfig = testConfig(join(scratch, 'source-config'), sourceEnv);
        const source = await openStore(sourceConfig);
        try {
          await assert.rejects(cloneTenant({ tenantId, source: { ...source, config: sourceConfig },
            target: { db: opened.db, keyProvider: opened.keyProvider, config: opened.config }, pseudonymize: true, batchSize: 100 }), { code: 'clone.target_not_empty' });
        } finally { await source.db.close(); }
      } finally { await opened.close(); }
    });
  });
}
