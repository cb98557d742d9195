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

describe('restoring across environments [pglite]', () => {
  let prod: Awaited<ReturnType<typeof backupFixture>>;
  let test: Awaited<ReturnType<typeof backupFixture>>;
  const scratch = mkdtempSync(join(tmpdir(), 'tresor-env-restore-'));
  before(async () => {
    prod = await backupFixture('pglite', { records: 2, env: { TRESOR_ENVIRONMENT: 'production' } });
    test = await backupFixture('pglite', { records: 2, env: { TRESOR_ENVIRONMENT: 'test' } });
  });
  after(async () => { await prod.close(); await test.close(); rmSync(scratch, { recursive: true, force: true }); });

  it('a backup names the environment that made it', async () => {
    assert.equal((await makeBackup(prod.t)).environment, 'production');
    assert.equal((await makeBackup(test.t)).environment, 'test');
  });

  it('a test or staging deployment refuses a production backup and writes nothing', async () => {
    const id = (await makeBackup(prod.t)).id;
    for (const environment of ['test', 'staging']) {
      const target = join(scratch, `into-${environment}`);
      const run = await tresor(['backup', 'restore', id, '--to', target], prod.cliEnv({ TRESOR_ENVIRONMENT: environment }));
      assert.notEqual(run.code, 0, run.stdout);
      assert.match(run.stderr, /backup\.production_into_non_production/);
      assert.match(run.stderr, /tresor tenant clone --tenant ID --to TARGET --pseudonymize/);
      assert.ok(!existsSync(join(target, 'pglite')), 'nothing restored');
    }
  });

  it('production restores a production backup; a test deployment restores a test backup', async () => {
    const fromProd = (await makeBackup(prod.t)).id;
    const ok = await tresor(['backup', 'restore', fromProd, '--to', join(scratch, 'prod'), '--json'], prod.cliEnv({ TRESOR_ENVIRONMENT: 'production' }));
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const fromTest = (await makeBackup(test.t)).id;
    const ok2 = await tresor(['backup', 'restore', fromTest, '--to', join(scratch, 'test'), '--json'], test.cliEnv({ TRESOR_ENVIRONMENT: 'test' }));
    assert.equal(ok2.code, 0, ok2.stdout + ok2.stderr);
  });
});
