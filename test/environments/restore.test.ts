// Test/prod separation at restore: a backup carries the environment of the
// deployment that made it, and a staging or test deployment refuses to
// restore a production backup (production data reaches it only through
// `tresor tenant clone --pseudonymize`).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backupFixture, makeBackup } from '../backup/backup-fixture.ts';
import { tresor } from '../cli/run-cli.ts';
import { restoreBackup } from '../../src/backup/backup-restore.ts';
import { openRootKey } from '../helpers/backends.ts';

// One backup of each deployment; the CLI refuses one production backup and
// restores the test one, and restoreBackup (what the CLI calls, given its
// TRESOR_ENVIRONMENT) covers the other environments in this process.

describe('restoring across environments [pglite]', () => {
  let prod: Awaited<ReturnType<typeof backupFixture>>;
  let test: Awaited<ReturnType<typeof backupFixture>>;
  let fromProd: { id: string; environment: string };
  let fromTest: { id: string; environment: string };
  const scratch = mkdtempSync(join(tmpdir(), 'tresor-env-restore-'));
  before(async () => {
    prod = await backupFixture('pglite', { records: 2, env: { TRESOR_ENVIRONMENT: 'production' } });
    test = await backupFixture('pglite', { records: 2, env: { TRESOR_ENVIRONMENT: 'test' } });
    fromProd = await makeBackup(prod.t);
    fromTest = await makeBackup(test.t);
  });
  /** restoreBackup as `tresor backup restore` calls it in a deployment of `environment`, with the production app's root key. */
  const restoreIn = async (id: string, environment: 'production' | 'staging' | 'test', target: string) => {
    const keyProvider = await openRootKey(prod.t.store.config, prod.t.store.db);
    const db = await restoreBackup({ backupDir: prod.backupDir, summary: prod.t.services.backups.get(id)!, target, environment, keyProvider: () => keyProvider });
    await db.close();
  };
  after(async () => { await prod.close(); await test.close(); rmSync(scratch, { recursive: true, force: true }); });

  it('a backup names the environment that made it', async () => {
    assert.equal(fromProd.environment, 'production');
    assert.equal(fromTest.environment, 'test');
  });

  it('a test or staging deployment refuses a production backup and writes nothing', async () => {
    const target = join(scratch, 'into-test');
    const run = await tresor(['backup', 'restore', fromProd.id, '--to', target], prod.cliEnv({ TRESOR_ENVIRONMENT: 'test' }));
    assert.notEqual(run.code, 0, run.stdout);
    assert.match(run.stderr, /backup\.production_into_non_production/);
    assert.match(run.stderr, /tresor tenant clone --tenant ID --to TARGET --pseudonymize/);
    assert.ok(!existsSync(join(target, 'pglite')), 'nothing restored');
    const staging = join(scratch, 'into-staging');
    await assert.rejects(restoreIn(fromProd.id, 'staging', staging), { code: 'backup.production_into_non_production' });
    assert.ok(!existsSync(join(staging, 'pglite')), 'nothing restored');
  });

  it('production restores a production backup; a test deployment restores a test backup', async () => {
    await restoreIn(fromProd.id, 'production', join(scratch, 'prod'));
    assert.ok(existsSync(join(scratch, 'prod', 'pglite')));
    const ok = await tresor(['backup', 'restore', fromTest.id, '--to', join(scratch, 'test'), '--json'], test.cliEnv({ TRESOR_ENVIRONMENT: 'test' }));
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.equal(JSON.parse(ok.stdout).environment, 'test');
  });
});
