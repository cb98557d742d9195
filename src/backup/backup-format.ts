/**
 * The encrypted backup file: a plaintext header, then the snapshot in
 * AES-256-GCM frames.
 *
 *   "TRESORBK" ‖ u8 format ‖ u32 header length ‖ header (UTF-8 JSON)
 *   frame*: u8 final ‖ u32 sealed length ‖ nonce(12) ‖ ciphertext ‖ tag(16)
 *
 * Each backup has its own random data key, wrapped by the root key provider
 * under the label `tresor.backup.key.v1` and the backup id (the root key itself
 * is never in a backup). Every frame's AAD binds the backup id, the SHA-256 of
 * the header (so the manifest cannot be altered), the frame's index (so frames
 * cannot be reordered, dropped or spliced from another backup) and whether it
 * is the last frame (so a file cut at a frame boundary is refused as truncated).
 * This is the STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár 2015)
 * with random nonces.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { gcmOpen, gcmSeal, KEY_BYTES, NONCE_BYTES, TAG_BYTES, freshNonce } from '../crypto/envelope.ts';
import { encodeParts } from '../crypto/encoding.ts';
import type { KeyProvider } from '../crypto/key-provider.ts';
import type { StartupCode } from '../errors.ts';
import type { BackupManifest } from './backup-schemas.ts';

const MAGIC = Buffer.from('TRESORBK', 'ascii');
export const FORMAT_VERSION = 1;
/** Plaintext bytes per frame: memory per frame stays small, the tag overhead negligible (16 B per MiB). */
export const FRAME_BYTES = 1024 * 1024;
const MAX_HEADER_BYTES = 16 * 1024 * 1024;

export interface BackupHeader {
  format: number;
  frameBytes: number;
  key: { provider: KeyProvider['name']; keyId: string; wrapped: string; salt: string | null };
  manifest: BackupManifest;
}

/** A backup failure a caller can name: the CLI prints the code, verification records it. */
export class BackupError extends Error {
  constructor(readonly code: Extract<StartupCode, `backup.${string}`>, message: string) {
    super(message);
  }
}

const keyAad = (backupId: string) => encodeParts('tresor.backup.key.v1', [backupId]);

function frameAad(backupId: string, headerHash: Buffer, index: number, final: boolean): Buffer {
  const tail = Buffer.alloc(9);
  tail.writeBigUInt64BE(BigInt(index), 0);
  tail[8] = final ? 1 : 0;
  return Buffer.concat([encodeParts('tresor.backup.frame.v1', [backupId]), headerHash, tail]);
}

/** A fresh data key for one backup and the header that carries it wrapped. */
export function newBackupKey(provider: KeyProvider, manifest: BackupManifest, salt: Buffer | null): { key: Buffer; header: BackupHeader } {
  const key = randomBytes(KEY_BYTES);
  const wrapped = provider.wrap(key, keyAad(manifest.id)).toString('base64');
  return { key, header: { format: FORMAT_VERSION, frameBytes: FRAME_BYTES,
    key: { provider: provider.name, keyId: provider.keyId, wrapped, salt: salt ? salt.toString('base64') : null }, manifest } };
}

/** The backup's data key, or backup.wrong_key when this root key did not wrap it. */
export function openBackupKey(provider: KeyProvider, header: BackupHeader): Buffer {
  const id = header.manifest.id;
  if (provider.keyId !== header.key.keyId) {
    throw new BackupError('backup.wrong_key', `backup ${id} was made under root key ${header.key.keyId}, but the configured root key is ${provider.keyId}`);
  }
  try {
    return provider.unwrap(Buffer.from(header.key.wrapped, 'base64'), keyAad(id));
  } catch {
    throw new BackupError('backup.wrong_key', `the backup key of ${id} does not unwrap under the configured root key`);
  }
}

export function encodeHeader(header: BackupHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const fixed = Buffer.alloc(MAGIC.length + 5);
  MAGIC.copy(fixed);
  fixed[MAGIC.length] = FORMAT_VERSION;
  fixed.writeUInt32BE(json.length, MAGIC.length + 1);
  return Buffer.concat([fixed, json]);
}

/** Seals the snapshot as it streams through: frames of FRAME_BYTES, the last one flagged. */
export function encryptFrames(key: Buffer, header: Buffer, backupId: string): Transform {
  const headerHash = createHash('sha256').update(header).digest();
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let index = 0;
  const seal = (plain: Buffer, final: boolean): Buffer => {
    const nonce = Buffer.from(freshNonce());
    const sealed = gcmSeal(key, nonce, plain, frameAad(backupId, headerHash, index++, final));
    const prefix = Buffer.alloc(5);
    prefix[0] = final ? 1 : 0;
    prefix.writeUInt32BE(NONCE_BYTES + sealed.length, 1);
    return Buffer.concat([prefix, nonce, sealed]);
  };
  let headerSent = false;
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      if (!headerSent) { this.push(header); headerSent = true; }
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes <= FRAME_BYTES) return done();
      // One copy per incoming chunk, then frames are sliced off it: a source
      // that hands over the snapshot in huge chunks stays linear. Data beyond
      // the last full frame (or that frame itself) waits, so flush() can flag
      // the true last frame final.
      const all = pending.length === 1 ? pending[0] : Buffer.concat(pending);
      let at = 0;
      while (all.length - at > FRAME_BYTES) {
        this.push(seal(all.subarray(at, at + FRAME_BYTES), false));
        at += FRAME_BYTES;
      }
      pending = [all.subarray(at)];
      pendingBytes = pending[0].length;
      done();
    },
    flush(done: TransformCallback) {
      if (!headerSent) this.push(header);
      // Always one final frame (possibly empty), so "ended here" is authenticated too.
      this.push(seal(Buffer.concat(pending), true));
      done();
    },
  });
}

/** Reads exact byte counts from a stream of chunks. */
class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  private done = false;
  constructor(private readonly source: AsyncIterator<Buffer>) {}
  private async fill(n: number): Promise<boolean> {
    while (this.buf.length < n && !this.done) {
      const next = await this.source.next();
      if (next.done) this.done = true;
      else this.buf = this.buf.length ? Buffer.concat([this.buf, next.value]) : next.value;
    }
    return this.buf.length >= n;
  }
  async read(n: number, what: string): Promise<Buffer> {
    if (!(await this.fill(n))) throw new BackupError('backup.corrupt', `the backup file ends inside ${what}: truncated`);
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
  async atEnd(): Promise<boolean> { return !(await this.fill(1)); }
}

/** Parses the header off the front of a backup file. */
export async function readHeader(reader: ByteReader): Promise<{ header: BackupHeader; raw: Buffer }> {
  const fixed = await reader.read(MAGIC.length + 5, 'the header');
  if (!fixed.subarray(0, MAGIC.length).equals(MAGIC)) throw new BackupError('backup.corrupt', 'not a Tresor backup file (bad magic bytes)');
  if (fixed[MAGIC.length] !== FORMAT_VERSION) throw new BackupError('backup.corrupt', `unknown backup format ${fixed[MAGIC.length]}`);
  const length = fixed.readUInt32BE(MAGIC.length + 1);
  if (length > MAX_HEADER_BYTES) throw new BackupError('backup.corrupt', 'the backup header is implausibly large');
  const json = await reader.read(length, 'the header');
  try {
    return { header: JSON.parse(json.toString('utf8')) as BackupHeader, raw: Buffer.concat([fixed, json]) };
  } catch {
    throw new BackupError('backup.corrupt', 'the backup header is not valid JSON');
  }
}

export function backupReader(chunks: AsyncIterable<Buffer>): ByteReader {
  return new ByteReader(chunks[Symbol.asyncIterator]());
}

/** Yields the snapshot's plaintext frame by frame; any tampering, reordering or truncation throws backup.corrupt. */
export async function* decryptFrames(reader: ByteReader, key: Buffer, header: BackupHeader, rawHeader: Buffer): AsyncGenerator<Buffer> {
  const headerHash = createHash('sha256').update(rawHeader).digest();
  const maxSealed = NONCE_BYTES + header.frameBytes + TAG_BYTES;
  for (let index = 0; ; index++) {
    const prefix = await reader.read(5, `frame ${index}`);
    const final = prefix[0] === 1;
    const length = prefix.readUInt32BE(1);
    if (prefix[0] > 1 || length < NONCE_BYTES + TAG_BYTES || length > maxSealed) throw new BackupError('backup.corrupt', `frame ${index} has a bad length or flag`);
    const body = await reader.read(length, `frame ${index}`);
    let plain: Buffer;
    try {
      plain = gcmOpen(key, body.subarray(0, NONCE_BYTES), body.subarray(NONCE_BYTES), frameAad(header.manifest.id, headerHash, index, final));
    } catch {
      throw new BackupError('backup.corrupt', `frame ${index} does not authenticate: the backup was altered, reordered or spliced`);
    }
    yield plain;
    if (final) {
      if (!(await reader.atEnd())) throw new BackupError('backup.corrupt', 'data follows the final frame');
      return;
    }
  }
}
