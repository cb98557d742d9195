/**
 * Field encryption with AES-256-GCM (NIST SP 800-38D).
 *
 * Blob layout: nonce(12) ‖ ciphertext ‖ tag(16).
 * Every value is bound to its location through the AAD (see fieldAad), so a
 * ciphertext copied into another tenant, record, field or key version fails
 * authentication instead of decrypting in the wrong place.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { codedError } from './errors.js';
import { canonicalId, encodeParts, lengthPrefixed, uint32be } from './encoding.js';

const ALGORITHM = 'aes-256-gcm';
export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

function assertKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
    throw new Error(`AES-256-GCM key must be ${KEY_BYTES} bytes`);
  }
}

/**
 * Raw GCM seal with a caller-supplied nonce; returns ciphertext ‖ tag.
 * Exported only so published test vectors exercise the same code path as
 * encryptValue. Never call it with a fixed nonce in production: reusing a
 * nonce under one key leaks the XOR of plaintexts and the GHASH key.
 */
export function gcmSeal(key: Buffer, nonce: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  assertKey(key);
  if (nonce.length !== NONCE_BYTES) throw new Error(`GCM nonce must be ${NONCE_BYTES} bytes`);
  const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([body, cipher.getAuthTag()]);
}

/**
 * Raw GCM open of ciphertext ‖ tag. authTagLength pins the tag to 16 bytes;
 * without it Node would accept truncated tags, which makes forgery cheaper.
 */
export function gcmOpen(key: Buffer, nonce: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  assertKey(key);
  if (nonce.length !== NONCE_BYTES) throw new Error(`GCM nonce must be ${NONCE_BYTES} bytes`);
  if (sealed.length < TAG_BYTES) throw new Error('GCM input shorter than the tag');
  const body = sealed.subarray(0, sealed.length - TAG_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const decipher = createDecipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(body), decipher.final()]);
}

/**
 * Encrypt with a fresh random 96-bit nonce per call. Random nonces are safe
 * up to ~2^32 messages per key (SP 800-38D §8.3); key versions rotate far
 * sooner than that.
 */
export function encryptValue(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const nonce = freshNonce();
  return Buffer.concat([nonce, gcmSeal(key, nonce, plaintext, aad)]);
}

/**
 * Decrypt a blob from encryptValue. All failures (wrong key, wrong AAD,
 * tampering, truncation) collapse into one error code so callers cannot
 * build an oracle that distinguishes them.
 */
export function decryptValue(key: Buffer, blob: Buffer, aad: Buffer): Buffer {
  try {
    if (blob.length < NONCE_BYTES + TAG_BYTES) throw new Error('blob too short');
    return gcmOpen(key, blob.subarray(0, NONCE_BYTES), blob.subarray(NONCE_BYTES), aad);
  } catch {
    throw codedError('crypto.decrypt_failed', 'decryption failed: wrong key, wrong context or corrupted data');
  }
}

export interface FieldAadParams {
  tenantId: string;
  collection: string;
  recordId: string;
  field: string;
  keyVersion: number;
}

/** AAD binding a field value to tenant, collection, record, field and key version. */
export function fieldAad(p: FieldAadParams): Buffer {
  return fieldAadWith(fieldAadPrefix(p), p.field, p.keyVersion);
}

/** The record-level part of fieldAad, computed once per record rather than once per field. */
export function fieldAadPrefix(p: Pick<FieldAadParams, 'tenantId' | 'collection' | 'recordId'>): Buffer {
  return encodeParts('tresor.field.v1', [
    canonicalId(p.tenantId, 'tenant id'), canonicalId(p.collection, 'collection id'), canonicalId(p.recordId, 'record id'),
  ]);
}

/** fieldAad from a prefix: the same bytes as fieldAad({...record, field, keyVersion}). */
export function fieldAadWith(prefix: Buffer, field: string, keyVersion: number): Buffer {
  return Buffer.concat([prefix, lengthPrefixed(field), uint32be(keyVersion, 'keyVersion')]);
}

export interface RecordAadParams { tenantId: string; collection: string; recordId: string; keyVersion: number }

/**
 * AAD of a record's one seal over all of its encrypted fields: tenant ‖
 * collection ‖ record ‖ key version, length-prefixed under its own label, so a
 * sealed blob moved to another record, collection, tenant or version fails.
 */
export function recordAad(p: RecordAadParams): Buffer {
  const parts = encodeParts('tresor.record.v2', [
    canonicalId(p.tenantId, 'tenant id'), canonicalId(p.collection, 'collection id'), canonicalId(p.recordId, 'record id'),
  ]);
  return Buffer.concat([parts, uint32be(p.keyVersion, 'keyVersion')]);
}

// Length hiding (ISO/IEC 7816-4 padding): 0x80, then zeros up to a multiple of
// PAD_BUCKET bytes, and never less than PAD_MIN. A sealed record then reveals
// only which 32-byte bucket its serialised fields fall in (all records up to
// 63 bytes of plaintext look alike); field names are inside the seal too.
export const PAD_BUCKET = 32;
export const PAD_MIN = 64;

export function padPlaintext(plain: Buffer): Buffer {
  const size = Math.max(PAD_MIN, Math.ceil((plain.length + 1) / PAD_BUCKET) * PAD_BUCKET);
  const out = Buffer.alloc(size);
  plain.copy(out);
  out[plain.length] = 0x80;
  return out;
}

export function unpadPlaintext(padded: Buffer): Buffer {
  const end = padded.lastIndexOf(0x80);
  if (end < 0 || padded.subarray(end + 1).some((b) => b !== 0)) {
    throw codedError('crypto.decrypt_failed', 'decryption failed: wrong key, wrong context or corrupted data');
  }
  return padded.subarray(0, end);
}

/** One seal over a record's encrypted fields: padded, then AES-256-GCM with a fresh nonce. */
export function sealRecord(key: Buffer, plaintext: Buffer, p: RecordAadParams): Buffer {
  return encryptValue(key, padPlaintext(plaintext), recordAad(p));
}

export function openRecord(key: Buffer, blob: Buffer, p: RecordAadParams): Buffer {
  return unpadPlaintext(decryptValue(key, blob, recordAad(p)));
}

// Nonces come from a pool refilled by the CSPRNG 4 KiB at a time: the same
// randomness as randomBytes(12) per call, without a syscall-sized cost per
// field. Every 12-byte slice is handed out once and never reused.
const NONCE_POOL_BYTES = 4096 - (4096 % NONCE_BYTES);
let noncePool = Buffer.alloc(0);
let noncePos = NONCE_POOL_BYTES;

export function freshNonce(): Buffer {
  if (noncePos + NONCE_BYTES > noncePool.length) {
    noncePool = randomBytes(NONCE_POOL_BYTES);
    noncePos = 0;
  }
  const nonce = noncePool.subarray(noncePos, noncePos + NONCE_BYTES);
  noncePos += NONCE_BYTES;
  return nonce;
}
