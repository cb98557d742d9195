/**
 * Pseudonyms (GDPR Art. 4(5)): a keyed HMAC-SHA256 (RFC 2104) of a field's
 * normalised value under the tenant's pseudonym key, stable per tenant and
 * purpose, so exports can be joined on it without revealing the value; without
 * the key nobody can test guesses, which a plain hash of an e-mail would allow.
 * The "additional information" that re-identifies is the mapping pseudonym ->
 * value, sealed under a second key of its own (AES-256-GCM).
 */
import { hkdfSync } from 'node:crypto';
import { hmacSha256 } from './blind-index.js';
import { canonicalId, encodeParts, uint32be } from './encoding.js';
import { decryptValue, encryptValue, KEY_BYTES, padPlaintext, unpadPlaintext } from './envelope.js';

export interface PseudonymKeys {
  version: number;
  /** HMAC key of the pseudonyms. */
  mac: Buffer;
  /** AES-256-GCM key of the mapping's sealed values. */
  seal: Buffer;
}

export interface PseudonymParams { tenantId: string; purpose: string; value: string }

// Two keys from one wrapped secret (HKDF-SHA256, RFC 5869): the key that makes
// pseudonyms never encrypts, and the one that seals values never MACs.
const subkey = (secret: Buffer, label: string) =>
  Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), encodeParts('tresor.pseudonym.key.v1', [label]), KEY_BYTES));

export function pseudonymKeysFrom(secret: Buffer, version: number): PseudonymKeys {
  if (!Buffer.isBuffer(secret) || secret.length !== KEY_BYTES) throw new Error(`pseudonym key must be ${KEY_BYTES} bytes`);
  return { version, mac: subkey(secret, 'mac'), seal: subkey(secret, 'seal') };
}

/**
 * 32 bytes. Tenant and purpose are length-prefixed parts of the MAC input, so
 * the same value gets unrelated pseudonyms under two purposes (no linking of
 * "marketing" and "billing" exports) and in two tenants.
 */
export function pseudonymFor(keys: PseudonymKeys, p: PseudonymParams): Buffer {
  return hmacSha256(keys.mac, encodeParts('tresor.pseudonym.v1', [canonicalId(p.tenantId, 'tenant id'), p.purpose, p.value]));
}

/** How a pseudonym travels: unpadded base64url of its 32 bytes (43 characters). */
export const pseudonymText = (pseudonym: Buffer) => pseudonym.toString('base64url');
export const PSEUDONYM_PATTERN = /^[A-Za-z0-9_-]{43}$/;
export const pseudonymBytes = (text: string) => Buffer.from(text, 'base64url');

interface MapAad { tenantId: string; purpose: string; pseudonym: Buffer; version: number }

// Binds a sealed value to its tenant, purpose, pseudonym and key version: a
// sealed value copied onto another mapping row fails to open.
const mapAad = (p: MapAad) => Buffer.concat([
  encodeParts('tresor.pseudonym.map.v1', [canonicalId(p.tenantId, 'tenant id'), p.purpose]), p.pseudonym, uint32be(p.version, 'key version')]);

/** The value (JSON text of the normalised value), padded so its length says little, then sealed. */
export function sealMappedValue(keys: PseudonymKeys, json: string, p: Omit<MapAad, 'version'>): Buffer {
  return encryptValue(keys.seal, padPlaintext(Buffer.from(json, 'utf8')), mapAad({ ...p, version: keys.version }));
}

export function openMappedValue(keys: PseudonymKeys, sealed: Buffer, p: Omit<MapAad, 'version'>): string {
  return unpadPlaintext(decryptValue(keys.seal, sealed, mapAad({ ...p, version: keys.version }))).toString('utf8');
}
