import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { openFileKeyProvider, type KeyProvider } from '../../src/crypto/key-provider.ts';
import { FRAME_BYTES, backupReader, decryptFrames, encodeHeader, encryptFrames, newBackupKey, openBackupKey, readHeader } from '../../src/backup/backup-format.ts';
import type { BackupManifest } from '../../src/backup/backup-schemas.ts';

const manifest = (id: string): BackupManifest => ({ id, createdAt: new Date(0).toISOString(), store: 'pglite', schemaVersion: 8, snapshotBytes: 0, tenants: [], auditTreeHead: null });

async function seal(provider: KeyProvider, plain: Buffer, id = '20261202T000000000Z-00000001'): Promise<Buffer> {
  const { key, header } = newBackupKey(provider, manifest(id), null);
  const out: Buffer[] = [];
  for await (const c of Readable.from([plain]).pipe(encryptFrames(key, encodeHeader(header), id))) out.push(c as Buffer);
  return Buffer.concat(out);
}

async function open(provider: KeyProvider, file: Buffer): Promise<Buffer> {
  const reader = backupReader(Readable.from([file]));
  const { header, raw } = await readHeader(reader);
  const parts: Buffer[] = [];
  for await (const p of decryptFrames(reader, openBackupKey(provider, header), header, raw)) parts.push(p);
  return Buffer.concat(parts);
}

/** [start, end) of every frame after the header. */
function frames(file: Buffer): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let at = 13 + file.readUInt32BE(9); at < file.length; at += 5 + file.readUInt32BE(at + 1)) out.push([at, at + 5 + file.readUInt32BE(at + 1)]);
  return out;
}

describe('backup file format: streaming AES-256-GCM frames', () => {
  let dir: string;
  let provider: KeyProvider;
  const plain = randomBytes(2 * FRAME_BYTES + 12345);
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tresor-format-'));
    provider = openFileKeyProvider({ path: join(dir, 'root.key'), allowCreate: true });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips across several frames, the last one flagged final', async () => {
    const file = await seal(provider, plain);
    assert.deepEqual(frames(file).map(([s]) => file[s]), [0, 0, 1]);
    assert.ok((await open(provider, file)).equals(plain));
  });

  it('a snapshot of exactly two frames ends on a full final frame, from one chunk or from many', async () => {
    const exact = randomBytes(2 * FRAME_BYTES);
    const file = await seal(provider, exact);
    assert.deepEqual(frames(file).map(([s]) => file[s]), [0, 1]);
    assert.ok((await open(provider, file)).equals(exact));
  });

  it('refuses frames in another order', async () => {
    const file = await seal(provider, plain);
    const [a, b, c] = frames(file);
    const swapped = Buffer.concat([file.subarray(0, a[0]), file.subarray(b[0], b[1]), file.subarray(a[0], a[1]), file.subarray(c[0], c[1])]);
    await assert.rejects(open(provider, swapped), { code: 'backup.corrupt' });
  });

  it('refuses a final flag moved to an earlier frame (truncation disguised as an end)', async () => {
    const file = await seal(provider, plain);
    const [a] = frames(file);
    const cut = Buffer.from(file.subarray(0, a[1]));
    cut[a[0]] = 1;
    await assert.rejects(open(provider, cut), { code: 'backup.corrupt' });
  });

  it('refuses a frame spliced in from another backup under the same root key', async () => {
    const one = await seal(provider, plain);
    const other = await seal(provider, plain, '20261202T000000000Z-00000002');
    const [, b1] = frames(one);
    const [, b2] = frames(other);
    const spliced = Buffer.concat([one.subarray(0, b1[0]), other.subarray(b2[0], b2[1]), one.subarray(b1[1])]);
    await assert.rejects(open(provider, spliced), { code: 'backup.corrupt' });
  });

  it('refuses an altered manifest in the plaintext header', async () => {
    const file = await seal(provider, plain);
    const at = file.indexOf('"schemaVersion":8');
    const altered = Buffer.from(file);
    altered.write('"schemaVersion":7', at);
    await assert.rejects(open(provider, altered), { code: 'backup.corrupt' });
  });

  it('another root key is told apart before any decryption (backup.wrong_key)', async () => {
    const other = openFileKeyProvider({ path: join(dir, 'other.key'), allowCreate: true });
    await assert.rejects(open(other, await seal(provider, plain)), { code: 'backup.wrong_key' });
  });
});
