import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes, createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { readSummary } from '../../src/backup/backup-files.ts';
import { BackupError } from '../../src/backup/backup-format.ts';
import { restoreBackup } from '../../src/backup/backup-restore.ts';
import { openFileKeyProvider } from '../../src/crypto/key-provider.ts';
import { tresor } from '../cli/run-cli.ts';
import { backupFixture, makeBackup } from './backup-fixture.ts';

// Each fault: the restore is refused with its code and leaves nothing behind.
// Two of them through `tresor backup restore` (exit 1, the code in --json);
// the others through the restore the command calls, in this process.
// Embedded store only: PostgreSQL is restored by pgBackRest (test:backup-pg).
describe('restore refuses damaged or foreign backups [pglite]', () => {
  let f: Awaited<ReturnType<typeof backupFixture>>;
  let id: string;
  let scratch: string;
  before(async () => {
    f = await backupFixture('pglite');
    id = (await makeBackup(f.t)).id;
    scratch = mkdtempSync(join(tmpdir(), 'tresor-faults-'));
  });
  after(async () => { await f.close(); rmSync(scratch, { recursive: true, force: true }); });

  const file = () => join(f.backupDir, `${id}.tresorbak`);
  const summaryPath = () => join(f.backupDir, `${id}.json`);
  async function restoreFails(code: string, env: Record<string, string> = {}, target = join(scratch, `t-${randomBytes(4).toString('hex')}`)) {
    const run = await tresor(['backup', 'restore', id, '--to', target, '--json'], f.cliEnv(env));
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.equal(JSON.parse(run.stdout).code, code, run.stdout);
    return target;
  }
  /** The restore `tresor backup restore` runs (same backup dir, key file and environment), refused with `code`. */
  async function restoreRefused(code: string, target = join(scratch, `t-${randomBytes(4).toString('hex')}`)) {
    const config = loadConfig(f.cliEnv());
    let refusal: unknown;
    try {
      const restored = await restoreBackup({ backupDir: config.backupDir, summary: readSummary(config.backupDir, id)!, target, environment: config.environment,
        keyProvider: () => openFileKeyProvider({ path: config.keyFile, allowCreate: false }) });
      await restored.close(); // not refused: the assertion below fails
    } catch (err) { refusal = err; }
    assert.ok(refusal instanceof BackupError, `expected ${code}, got ${refusal ?? 'a restored store'}`);
    assert.equal(refusal.code, code, refusal.message);
    return target;
  }
  /** Runs `damage` on the backup file (and its summary), then puts both back. */
  async function withDamage(damage: (bytes: Buffer) => Buffer, fixChecksum: boolean, check: () => Promise<void>) {
    const original = readFileSync(file());
    const summary = readFileSync(summaryPath(), 'utf8');
    const damaged = damage(Buffer.from(original));
    writeFileSync(file(), damaged);
    if (fixChecksum) {
      const s = JSON.parse(summary);
      writeFileSync(summaryPath(), JSON.stringify({ ...s, sha256: createHash('sha256').update(damaged).digest('hex'), sizeBytes: damaged.length }));
    }
    try { await check(); } finally { writeFileSync(file(), original); writeFileSync(summaryPath(), summary); }
  }

  it('a corrupted file fails its checksum (backup.checksum_mismatch) and nothing is restored', async () => {
    await withDamage((b) => { b[Math.floor(b.length / 2)] ^= 0xff; return b; }, false, async () => {
      const target = await restoreFails('backup.checksum_mismatch');
      assert.equal(existsSync(target), false);
    });
  });

  it('a file altered together with its checksum fails authentication (backup.corrupt)', async () => {
    await withDamage((b) => { b[b.length - 100] ^= 0x01; return b; }, true, async () => {
      assert.equal(existsSync(await restoreRefused('backup.corrupt')), false);
    });
  });

  it('a file cut short at a frame boundary is refused as truncated (backup.corrupt)', async () => {
    // Frame prefix: u8 final ‖ u32 length. Drop the last frame entirely.
    await withDamage((b) => {
      const headerEnd = 13 + b.readUInt32BE(9);
      let at = headerEnd;
      let lastStart = at;
      while (at < b.length) { lastStart = at; at += 5 + b.readUInt32BE(at + 1); }
      return b.subarray(0, lastStart);
    }, true, async () => { assert.equal(existsSync(await restoreRefused('backup.corrupt')), false); });
  });

  it('another root key cannot open it (backup.wrong_key)', async () => {
    const otherKey = join(scratch, 'other.key');
    writeFileSync(otherKey, randomBytes(32), { mode: 0o600 });
    assert.equal(existsSync(await restoreFails('backup.wrong_key', { TRESOR_KEY_FILE: otherKey })), false);
  });

  it('a target that is not empty is refused (backup.target_not_empty) and left as it was', async () => {
    const target = join(scratch, 'occupied');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(target);
    writeFileSync(join(target, 'keep.txt'), 'mine');
    await restoreRefused('backup.target_not_empty', target);
    assert.deepEqual(readdirSync(target), ['keep.txt']);
  });

  it('a backup from a newer schema is refused (backup.newer_schema)', async () => {
    // What a newer Tresor leaves behind: a migration this one does not know.
    await f.t.services.db.query("insert into schema_migrations (version, name) values (9999, 'from_a_newer_tresor')");
    const newer = (await makeBackup(f.t));
    await f.t.services.db.query('delete from schema_migrations where version = 9999');
    assert.equal(newer.schemaVersion, 9999);
    const before = id;
    id = newer.id;
    try { assert.equal(existsSync(await restoreRefused('backup.newer_schema')), false); } finally { id = before; }
  });
});
