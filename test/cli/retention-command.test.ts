// tresor retention run: a [store] command on a stopped embedded store; --as-of
// moves the clock (refused in the future in production), --tenant narrows it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tresorDirs } from '../../bench/tresor-process.ts';
import { loadConfig } from '../../src/config.ts';
import { openStore } from '../../src/main.ts';
import { createServices } from '../../src/services.ts';
import { writeMigratedPgliteDir } from '../helpers/migrated-images.ts';
import type { Actor } from '../../src/access/permissions.ts';
import { tresor } from './run-cli.ts';

describe('tresor retention run', () => {
  const dirs = tresorDirs('tresor-cli-retention-');
  const env = { ...dirs.env, LOG_LEVEL: 'silent' };
  let tenantId: string;
  let other: string;
  after(() => dirs.remove());

  before(async () => {
    // The store starts as a copy of the migrated one (`tresor migrate` on an empty store is test/cli/cli's).
    await writeMigratedPgliteDir(join(dirs.env.TRESOR_DATA_DIR, 'pglite'));
    const config = loadConfig(env);
    const { db, keyProvider } = await openStore(config);
    try {
      const services = createServices(config, { db, keyProvider });
      const operator: Actor = { type: 'api_key', id: 'cli-test', name: 'cli test', role: 'operator', tenantId: null };
      for (const name of ['Expiring', 'Other']) {
        const tenant = await services.tenants.create(operator, { name });
        const owner: Actor = { type: 'api_key', id: `owner-${name}`, name: 'owner', role: 'owner', tenantId: tenant.id };
        await services.collections.create(owner, tenant.id, { name: 'notes', fields: [{ name: 'text', type: 'string' }] });
        for (let i = 0; i < 4; i++) await services.records.create(owner, tenant.id, 'notes', { text: `note ${i}` });
        await services.retention.put(owner, tenant.id, 'notes', { basis: 'created', days: 30 });
        if (name === 'Expiring') tenantId = tenant.id; else other = tenant.id;
      }
      await services.requestLog.close();
    } finally { await db.close(); }
  });

  it('refuses a future --as-of in production (exit 64) and deletes nothing', async () => {
    const run = await tresor(['retention', 'run', '--as-of', '2099-01-01', '--json'], env);
    assert.equal(run.code, 64, run.stderr);
    assert.equal(JSON.parse(run.stdout).code, 'cli.usage');
    assert.match(JSON.parse(run.stdout).detail, /refused in production/);
  });

  it('as of today nothing has expired', async () => {
    const run = await tresor(['retention', 'run', '--json'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).deleted, 0);
  });

  it('as of 31 days ahead on a test deployment, one tenant\'s expired records go, with progress on stderr', async () => {
    const asOf = new Date(Date.now() + 31 * 86_400_000).toISOString();
    const run = await tresor(['retention', 'run', '--as-of', asOf, '--tenant', tenantId.toUpperCase(), '--json', '--progress-every', '1'],
      { ...env, TRESOR_ENVIRONMENT: 'test' });
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout);
    assert.equal(result.deleted, 4);
    assert.deepEqual(result.collections, [{ tenantId, collection: 'notes', deleted: 4 }]);
    assert.deepEqual(result.purged, []);
    assert.match(run.stderr, /retention: 4\/4 records deleted \(100%\)/);
    const again = await tresor(['retention', 'run', '--as-of', asOf], { ...env, TRESOR_ENVIRONMENT: 'test' });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /4 records deleted/, 'the other tenant\'s records expire on the second run');
    assert.match(again.stdout, new RegExp(`${other} notes: 4`));
  });

  it('a bad --as-of or --tenant is a usage error', async () => {
    const [asOf, tenant] = await Promise.all([tresor(['retention', 'run', '--as-of', 'tomorrow'], env), tresor(['retention', 'run', '--tenant', 'acme'], env)]);
    assert.equal(asOf.code, 64, asOf.stderr);
    assert.equal(tenant.code, 64, tenant.stderr);
  });
});
