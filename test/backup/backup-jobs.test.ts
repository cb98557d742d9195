import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createJobs } from '../../src/jobs/jobs.ts';
import { addBackupJobs } from '../../src/backup/backup-jobs.ts';
import { backupServiceFactory } from '../../src/backup/backup-service.ts';
import { verifyServiceFactory } from '../../src/backup/verify-service.ts';
import { signingKeyFor } from '../../src/crypto/signing.ts';
import { openRootKey } from '../helpers/backends.ts';
import { backupFixture } from './backup-fixture.ts';

const silent = { info: () => {}, warn: () => {}, error: () => {} };

describe('scheduled backups and verifications [pglite]', () => {
  let f: Awaited<ReturnType<typeof backupFixture>>;
  before(async () => { f = await backupFixture('pglite', { records: 1, }); });
  after(async () => f.close());

  it('back up once the interval has passed, keep the newest N, verify weekly; a restart adds nothing', async () => {
    let clock = Date.parse('2026-12-01T00:00:00Z');
    const now = () => new Date(clock);
    const { db, config } = f.t.store;
    const keyProvider = await openRootKey(config, db);
    const backups = backupServiceFactory({ db, keyProvider, backupDir: f.backupDir, keep: 2, now });
    const verifications = verifyServiceFactory({ db, keyProvider, tenantKeks: f.t.services.tenantKeks, backups, backupDir: f.backupDir, sample: 5, now,
      signer: signingKeyFor(keyProvider, 'backup.verification') });
    const jobs = createJobs({ db, log: silent, retries: 0, retryBaseMs: 1 });
    const deps = { backups, verifications, intervalMs: 3600_000, verifyIntervalMs: 7 * 86400_000, embedded: true, now };
    addBackupJobs(jobs, deps);
    const count = () => backups.list().length;
    const verified = async () => (await f.t.call('GET', '/v1/backups/verifications')).json().items.length;

    await jobs.kick('backup');
    await jobs.kick('backup_verify');
    assert.equal(count(), 0, 'nothing is due right after start');
    assert.equal(await verified(), 0, 'nothing to verify yet');

    clock += 3600_000;
    await jobs.kick('backup');
    assert.equal(count(), 1);
    await jobs.kick('backup');
    assert.equal(count(), 1, 'the newest backup is not older than the interval');
    await jobs.kick('backup_verify');
    assert.equal(await verified(), 1);

    for (let i = 0; i < 2; i++) { clock += 3600_000; await jobs.kick('backup'); }
    assert.equal(count(), 2, 'TRESOR_BACKUP_KEEP');

    // A restarted server (new jobs, same clock) neither backs up nor verifies again before its time.
    const again = createJobs({ db, log: silent, retries: 0, retryBaseMs: 1 });
    addBackupJobs(again, deps);
    await again.kick('backup');
    await again.kick('backup_verify');
    assert.equal(count(), 2);
    assert.equal(await verified(), 1);

    clock += 7 * 86400_000;
    await again.kick('backup_verify');
    assert.equal(await verified(), 2);
    await jobs.stop();
    await again.stop();
  });
});
