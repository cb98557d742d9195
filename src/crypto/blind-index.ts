/**
 * Blind indexes: a keyed, deterministic tag of a value so equality lookups
 * work on encrypted fields without revealing the value. HMAC-SHA256 (RFC 2104)
 * under a per-tenant index key; without the key an attacker cannot test
 * guesses offline, which a plain hash of a low-entropy email would allow.
 */
import { createHmac } from 'node:crypto';
import { canonicalId, encodeParts } from './encoding.js';

/** Plain HMAC-SHA256; exported so RFC 4231 vectors test this exact path. */
export function hmacSha256(key: Buffer, data: Buffer): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

export interface BlindIndexParams {
  /** The collection's id (canonical UUID). */
  collection: string;
  field: string;
  value: string;
}

/**
 * 32-byte blind index. Collection and field are part of the MAC input so
 * the same value in two fields yields unrelated indexes: otherwise an
 * observer could join e.g. "billing email" and "login email" columns.
 */
export function blindIndexFor(indexKey: Buffer, p: BlindIndexParams): Buffer {
  if (!Buffer.isBuffer(indexKey) || indexKey.length < 32) {
    throw new Error('blind index key must be at least 32 bytes');
  }
  return hmacSha256(indexKey, encodeParts('tresor.bidx.v1', [canonicalId(p.collection, 'collection id'), p.field, p.value]));
}
