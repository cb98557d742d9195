import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backends } from '../helpers/backends.ts';
import { assertProblem } from '../helpers/problem.ts';
import { sample } from '../helpers/metrics.ts';
import { verifyEd25519 } from '../../src/crypto/signing.ts';
import { verifyServiceFactory } from '../../src/backup/verify-service.ts';
import { openRootKey } from '../helpers/backends.ts';
import { backupFixture, makeBackup, verifyBackupNow } from './backup-fixture.ts';

const metric = async (f: Awaited<ReturnType<typeof backupFixture>>) =>
  sample((await f.t.call('GET', '/metrics')).body, 'tresor_backup_last_verified_timestamp_seconds');

for (const backend of backends) {
  describe(`restore verification with signed evidence [${backend}]`, () => {
    let f: Awaited<ReturnType<typeof backupFixture>>;
    before(async () => { f = await backupFixture(backend); });
    after(async () => f.close());

    if (backend === 'postgres') {
      it('has nothing to verify without an embedded backup, and no evidence yet', async () => {
        assertProblem(await f.t.call('POST', '/v1/backups/verifications', { body: {} }), 404, 'backup.not_found');
        assert.deepEqual((await f.t.call('GET', '/v1/backups/verifications')).json(), { items: [], nextCursor: null });
        assert.equal(await metric(f), 0);
      });
      return;
    }

    it('restores the newest backup, runs every check and signs the evidence', async () => {
      await f.t.services.jobs.kick('audit-sequencer');
      const made = (await makeBackup(f.t));
      const id = made.id;
      assert.ok(made.auditTreeHead.treeSize > 0, 'the seeding requests are in the audit log');
      assert.equal(await metric(f), 0);
      const { started, verification: v } = await verifyBackupNow(f.t);
      assert.deepEqual({ ...started, id: null }, { id: null, backupId: id, status: 'running', step: 'restore', stepsDone: 0, stepsTotal: 6, error: null, verification: null },
        'POST answers at once with the run; the restore happens in the background');
      assert.equal(v.backupId, id);
      assert.equal(v.result, 'passed', JSON.stringify(v.checks));
      const status = Object.fromEntries(v.checks.map((c: { name: string; status: string }) => [c.name, c.status]));
      assert.deepEqual(status, { checksum: 'passed', decryption: 'passed', row_counts: 'passed', record_decryption: 'passed',
        migrations: 'passed', audit_log: 'passed', erasure_ledger: 'passed' });
      assert.match(v.checks.find((c: { name: string }) => c.name === 'audit_log').detail, new RegExp(`matches the manifest's tree head of size ${made.auditTreeHead.treeSize}$`));
      assert.match(v.checks.find((c: { name: string }) => c.name === 'record_decryption').detail, /^3 record\(s\) decrypted/);
      assert.match(v.checks.find((c: { name: string }) => c.name === 'erasure_ledger').detail, /^0 ledger entries in .*, 0 re-applied to the copy \(0 record\(s\) deleted\); none of the 0 erased subject\(s\) findable$/);
      // What an auditor does with the evidence: check the signature over the exact bytes, then read them.
      const evidence = Buffer.from(v.evidence, 'base64');
      assert.ok(verifyEd25519(Buffer.from(v.publicKey, 'base64'), evidence, Buffer.from(v.signature, 'base64')));
      assert.deepEqual(JSON.parse(evidence.toString('utf8')), { backupId: v.backupId, checks: v.checks, result: 'passed', verifiedAt: v.verifiedAt });
      const tampered = Buffer.from(evidence.toString('utf8').replace('"passed"', '"failed"'), 'utf8');
      assert.equal(verifyEd25519(Buffer.from(v.publicKey, 'base64'), tampered, Buffer.from(v.signature, 'base64')), false);
      assert.equal(await metric(f), Math.floor(Date.parse(v.verifiedAt)) / 1000);
      const listed = (await f.t.call('GET', '/v1/backups/verifications')).json();
      assert.deepEqual(listed.items[0], v);
    });

    it('a damaged backup is recorded as failed at the checksum step, and the last-verified metric stays', async () => {
      const before = await metric(f);
      const id = (await makeBackup(f.t)).id;
      const path = join(f.backupDir, `${id}.tresorbak`);
      const bytes = readFileSync(path);
      bytes[bytes.length - 10] ^= 0xff;
      writeFileSync(path, bytes);
      const { verification: v } = await verifyBackupNow(f.t, { backupId: id });
      assert.equal(v.result, 'failed');
      assert.deepEqual(v.checks.map((c: { name: string; status: string }) => [c.name, c.status]), [['checksum', 'failed']]);
      assert.equal(await metric(f), before);
      const items = (await f.t.call('GET', '/v1/backups/verifications?limit=1')).json();
      assert.equal(items.items[0].id, v.id);
      assert.ok(items.nextCursor);
    });

    it('one verification at a time; an unknown run is 404; a finished run is read from the evidence', async () => {
      const first = await f.t.call('POST', '/v1/backups/verifications', { body: {} });
      assert.equal(first.statusCode, 202, first.body);
      assertProblem(await f.t.call('POST', '/v1/backups/verifications', { body: {} }), 409, 'backup.verification_in_progress');
      const running = (await f.t.call('GET', `/v1/backups/verifications/${first.json().id}/status`)).json();
      assert.equal(running.id, first.json().id);
      await f.t.services.verifications.idle();
      assertProblem(await f.t.call('GET', '/v1/backups/verifications/0190d5a2-7c3e-7000-8000-000000000000/status'), 404, 'backup.verification_not_found');
      // Another server (or this one after a restart) knows the run only from backup_verifications.
      const listed = (await f.t.call('GET', '/v1/backups/verifications?limit=1')).json().items[0];
      assert.equal(listed.id, first.json().id);
      const other = verifyServiceFactory({ db: f.t.services.db, keyProvider: await openRootKey(f.t.store.config, f.t.services.db), tenantKeks: f.t.services.tenantKeks, backups: f.t.services.backups,
        backupDir: f.backupDir, signer: { keyId: 'unused', publicKey: Buffer.alloc(32), sign: () => Buffer.alloc(64) }, sample: 1 });
      assert.deepEqual(await other.status(listed.id), { id: listed.id, backupId: listed.backupId, status: 'complete', step: 'done', stepsDone: 1, stepsTotal: 1, error: null, verification: listed });
    });

    it('evidence cannot be rewritten in the database', async () => {
      await assert.rejects(f.t.services.db.query("update backup_verifications set result = 'passed'"), /append-only/);
      await assert.rejects(f.t.services.db.query('delete from backup_verifications'), /append-only/);
    });

    it('only operators verify or read the evidence', async () => {
      assertProblem(await f.t.call('POST', '/v1/backups/verifications', { token: f.tenant.adminKey, body: {} }), 403, 'auth.forbidden');
      assertProblem(await f.t.call('GET', '/v1/backups/verifications', { token: f.tenant.adminKey }), 403, 'auth.forbidden');
    });
  });
}
