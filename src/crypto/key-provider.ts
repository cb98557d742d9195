/**
 * Root key-encryption key (KEK) providers. The KEK never encrypts data
 * directly; it only wraps per-tenant data keys (see keyring.ts), so rotating
 * or re-wrapping is cheap and the KEK's exposure is minimal.
 */
import { closeSync, fstatSync, mkdirSync, openSync, readSync } from 'node:fs';
import { createHash, hkdfSync, randomBytes, scryptSync } from 'node:crypto';
import { dirname } from 'node:path';
import { decryptValue, encryptValue, KEY_BYTES } from './envelope.js';
import { codedError } from './errors.js';
import { createExclusive, fsyncDir } from './key-files.js';
import { canonicalId, encodeParts } from './encoding.js';

export interface KeyProvider {
  readonly name: 'file' | 'passphrase';
  /** First 8 bytes of SHA-256("tresor.kek.id" ‖ kek), hex: detects a wrong root key. */
  readonly keyId: string;
  wrap(plain: Buffer, aad: Buffer): Buffer;
  unwrap(wrapped: Buffer, aad: Buffer): Buffer;
  /**
   * 32 bytes derived from the KEK for one purpose (HKDF-SHA256, RFC 5869).
   * For keys that must survive a restore without being stored (signing
   * keys); never a data key, which is random and wrapped instead.
   */
  deriveKey(purpose: string): Buffer;
  /**
   * The tenant's key-encryption key: HKDF-SHA256 with the root KEK as input
   * key material, the tenant's secret (kept outside the database, see
   * tenant-secrets.ts) as salt, and the canonical tenant id in the info. Its
   * wrap/unwrap seal a tenant's data keys; without the secret they open no more.
   */
  tenantKek(tenantId: string, secret: Buffer): KeyWrapper;
}

export interface KeyWrapper {
  wrap(plain: Buffer, aad: Buffer): Buffer;
  unwrap(wrapped: Buffer, aad: Buffer): Buffer;
}

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };
const MIN_PASSPHRASE_CHARS = 12;
const SALT_BYTES = 16;

/** Only a truncated hash is exposed, never the KEK itself. */
function kekId(kek: Buffer): string {
  return createHash('sha256').update('tresor.kek.id').update(kek).digest().subarray(0, 8).toString('hex');
}

const PURPOSE = /^[a-z][a-z0-9_.-]{0,63}$/;

/**
 * The purpose is the HKDF info, length-prefixed under a domain label, so two
 * purposes can never derive the same key and no derived key equals the KEK.
 */
function deriveFromKek(kek: Buffer, purpose: string): Buffer {
  if (!PURPOSE.test(purpose)) throw new Error('key purpose must match ' + PURPOSE.source);
  const info = encodeParts('tresor.kek.derive', [purpose]);
  return Buffer.from(hkdfSync('sha256', kek, Buffer.alloc(0), info, KEY_BYTES));
}

function deriveTenantKek(kek: Buffer, tenantId: string, secret: Buffer): Buffer {
  if (!Buffer.isBuffer(secret) || secret.length !== KEY_BYTES) throw new Error(`tenant secret must be ${KEY_BYTES} bytes`);
  const info = encodeParts('tresor.tenant.kek.v1', [canonicalId(tenantId, 'tenant id')]);
  return Buffer.from(hkdfSync('sha256', kek, secret, info, KEY_BYTES));
}

function wrapperOf(key: Buffer, what: string): KeyWrapper {
  return {
    wrap: (plain, aad) => encryptValue(key, plain, aad),
    unwrap: (wrapped, aad) => {
      try {
        return decryptValue(key, wrapped, aad);
      } catch {
        throw codedError('crypto.unwrap_failed', `unwrapping failed: wrong ${what}, wrong context or corrupted data`);
      }
    },
  };
}

/** Takes ownership of `key`: callers pass a freshly derived/read buffer that nothing else holds. */
function providerFromKek(name: KeyProvider['name'], key: Buffer): KeyProvider {
  return Object.freeze({
    name,
    keyId: kekId(key),
    ...wrapperOf(key, 'root key'),
    deriveKey: (purpose: string): Buffer => deriveFromKek(key, purpose),
    tenantKek: (tenantId: string, secret: Buffer): KeyWrapper => wrapperOf(deriveTenantKek(key, tenantId, secret), 'tenant key'),
  });
}

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * Create the key file once (key-files.ts): when two processes start at once
 * only one key is written and the other reads it; fsynced, file and
 * directory, so a crash cannot leave data wrapped under a key that never
 * reached the disk, nor an empty key file.
 */
function createKeyFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (createExclusive(path, randomBytes(KEY_BYTES))) fsyncDir(dirname(path));
}

/**
 * Read and validate the key file through one descriptor (fstat, not stat)
 * so the checked file is the file we read. Any group/other bit is refused:
 * a world-readable root key defeats encryption at rest.
 */
function readKeyFile(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
      const mode = (st.mode & 0o777).toString(8);
      throw codedError('config.key_file_permissions',
        `root key file ${path} has mode ${mode}, which allows group/other access; run: chmod 600 ${path}`);
    }
    if (!st.isFile() || st.size !== KEY_BYTES) {
      throw codedError('config.key_file_invalid', `root key file ${path} must be a regular file of exactly ${KEY_BYTES} bytes`);
    }
    const buf = Buffer.alloc(KEY_BYTES);
    const n = readSync(fd, buf, 0, KEY_BYTES, 0);
    if (n !== KEY_BYTES) throw codedError('config.key_file_invalid', `root key file ${path} could not be read in full`);
    return buf;
  } finally {
    closeSync(fd);
  }
}

export function openFileKeyProvider(opts: { path: string; allowCreate: boolean }): KeyProvider {
  const { path, allowCreate } = opts;
  try {
    return providerFromKek('file', readKeyFile(path));
  } catch (err) {
    if (errCode(err) !== 'ENOENT') throw err;
  }
  if (!allowCreate) {
    // Silently generating a new key here would make every existing wrapped
    // key undecryptable; refusing keeps the data recoverable.
    throw codedError('config.key_file_missing',
      `the database already holds keys wrapped by a root key, but the root key file at ${path} is missing; ` +
      'refusing to start. Restore the key file from backup.');
  }
  createKeyFile(path);
  return providerFromKek('file', readKeyFile(path));
}

/** 16 random bytes; store it next to the data, it is not secret. */
export function newPassphraseSalt(): Buffer {
  return randomBytes(SALT_BYTES);
}

/**
 * KEK = scrypt(passphrase, salt) (RFC 7914). scrypt is memory-hard, which
 * raises the cost of GPU/ASIC guessing of a stolen database's passphrase.
 */
export function openPassphraseKeyProvider(opts: { passphrase: string; salt: Buffer; scrypt?: ScryptParams }): KeyProvider {
  const { passphrase, salt } = opts;
  const { N, r, p } = opts.scrypt ?? DEFAULT_SCRYPT;
  if (typeof passphrase !== 'string' || [...passphrase].length < MIN_PASSPHRASE_CHARS) {
    throw codedError('config.passphrase_too_short', `passphrase must be at least ${MIN_PASSPHRASE_CHARS} characters`);
  }
  if (!Buffer.isBuffer(salt) || salt.length < SALT_BYTES) {
    throw codedError('config.passphrase_salt_invalid', `passphrase salt must be at least ${SALT_BYTES} bytes`);
  }
  // NFC so the same passphrase typed on macOS (NFD input) and Linux derives the same KEK.
  // scrypt needs about 128*N*r*p bytes; leave headroom above Node's 32 MiB default.
  const maxmem = Math.max(64 * 1024 * 1024, 256 * N * r * p);
  const kek = scryptSync(passphrase.normalize('NFC'), salt, KEY_BYTES, { N, r, p, maxmem });
  return providerFromKek('passphrase', kek);
}
