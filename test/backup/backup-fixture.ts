import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../src/app.ts';
import { createServices } from '../../src/services.ts';
import { openPglite } from '../../src/db/pglite-driver.ts';
import type { Db } from '../../src/db/db.ts';
import { openRootKey, testConfig, type BackendName } from '../helpers/backends.ts';
import { seedTenant, startTestApp, type TestApp } from '../helpers/test-app.ts';

/** A test app whose backups go to a temp dir of their own, with one seeded tenant holding `records` customers. */
export async function backupFixture(backend: BackendName, opts: { records?: number; env?: Record<string, string> } = {}) {
  const backupDir = mkdtempSync(join(tmpdir(), 'tresor-backups-'));
  const t = await startTestApp(backend, { env: { TRESOR_BACKUP_DIR: backupDir, ...opts.env } });
  const tenant = await seedTenant(t);
  const ids: string[] = [];
  for (let i = 0; i < (opts.records ?? 3); i++) {
    const res = await t.call('POST', tenant.base, { token: tenant.adminKey,
      body: { data: { email: `p${i}@example.com`, name: `Person ${i}`, birthdate: '1980-01-02', tier: 'gold' } } });
    if (res.statusCode !== 201) throw new Error(res.body);
    ids.push(res.json().id);
  }
  return {
    t, tenant, ids, backupDir,
    /** The environment a CLI run needs to restore this app's backups with its root key. */
    cliEnv: (extra: Record<string, string> = {}) => ({ TRESOR_BACKUP_DIR: backupDir, TRESOR_KEY_FILE: t.store.config.keyFile,
      TRESOR_DATA_DIR: join(t.store.dir, 'unused-data'), ...extra }),
    close: async () => { await t.close(); rmSync(backupDir, { recursive: true, force: true }); },
  };
}

/**
 * A backup as an operator makes one: POST /v1/backups answers 202 at once,
 * then its status reads complete (awaiting the service rather than polling).
 */
export async function makeBackup(t: TestApp) {
  const res = await t.call('POST', '/v1/backups');
  if (res.statusCode !== 202) throw new Error(`backup → ${res.statusCode}: ${res.body}`);
  const { id, status } = res.json();
  if (status !== 'running') throw new Error(`a new backup reads ${status}`);
  await t.services.backups.idle();
  const run = (await t.call('GET', `/v1/backups/${id}/status`)).json();
  if (run.status !== 'complete') throw new Error(`backup ${id}: ${JSON.stringify(run)}`);
  return run.backup;
}

/**
 * Opens a restored data dir as `tresor start` would (same key file) and
 * serves it through the API; `opened` is the store restoreBackup left open on it.
 */
export async function openRestored(dataDir: string, keyFile: string, opened?: Db): Promise<TestApp['app'] & { closeAll(): Promise<void> }> {
  const config = testConfig(join(dataDir, '..'), { TRESOR_DATA_DIR: dataDir, TRESOR_KEY_FILE: keyFile });
  const db = opened ?? await openPglite(join(dataDir, 'pglite'));
  const keyProvider = await openRootKey(config, db);
  const app = await buildApp(config, createServices(config, { db, keyProvider }));
  return Object.assign(app, { closeAll: async () => { await app.close(); await db.close(); } });
}

/**
 * A restore verification as an operator runs one: POST answers 202 with the
 * run, its status reads complete with the signed evidence (awaiting the
 * service rather than polling).
 */
export async function verifyBackupNow(t: TestApp, body: { backupId?: string } = {}) {
  const res = await t.call('POST', '/v1/backups/verifications', { body });
  if (res.statusCode !== 202) throw new Error(`verification → ${res.statusCode}: ${res.body}`);
  const started = res.json();
  if (started.status !== 'running' || started.verification !== null) throw new Error(`a new verification reads ${res.body}`);
  await t.services.verifications.idle();
  const run = (await t.call('GET', `/v1/backups/verifications/${started.id}/status`)).json();
  if (run.status !== 'complete') throw new Error(`verification ${started.id}: ${JSON.stringify(run)}`);
  if (run.verification.id !== started.id || run.stepsDone !== run.stepsTotal) throw new Error(`verification ${started.id}: ${JSON.stringify(run)}`);
  return { started, verification: run.verification };
}
