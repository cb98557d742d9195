/**
 * Per-tenant data encryption keys (DEKs), wrapped under the tenant's KEK
 * (derived from the root KEK and the tenant's secret, see tenant-keks.ts).
 * Each DEK has a purpose so that one key is never used for two jobs
 * (e.g. encryption key reused as blind-index HMAC key).
 */
import { randomBytes } from 'node:crypto';
import { canonicalId, encodeParts, uint32be } from './encoding.js';
import { KEY_BYTES } from './envelope.js';
import type { KeyWrapper } from './key-provider.js';

export type KeyPurpose = 'data' | 'index' | 'pseudonym';

const PURPOSES: ReadonlySet<string> = new Set<KeyPurpose>(['data', 'index', 'pseudonym']);

export interface DataKeyParams {
  tenantId: string;
  purpose: KeyPurpose;
  version: number;
}

export function generateDataKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/**
 * AAD for a wrapped DEK. Binding tenant, purpose and version means a row
 * swapped in the key table (tenant B's key presented as tenant A's, an
 * index key presented as a data key, an old version as the current one)
 * fails to unwrap instead of being silently used.
 */
export function dataKeyAad(p: DataKeyParams): Buffer {
  if (!PURPOSES.has(p.purpose)) throw new Error('unknown key purpose');
  const parts = encodeParts('tresor.dek.v1', [canonicalId(p.tenantId, 'tenant id'), p.purpose]);
  return Buffer.concat([parts, uint32be(p.version, 'key version')]);
}

export function wrapDataKey(provider: KeyWrapper, dek: Buffer, p: DataKeyParams): Buffer {
  if (!Buffer.isBuffer(dek) || dek.length !== KEY_BYTES) throw new Error(`data key must be ${KEY_BYTES} bytes`);
  return provider.wrap(dek, dataKeyAad(p));
}

/** Throws code 'crypto.unwrap_failed' (from the provider) on any mismatch. */
export function unwrapDataKey(provider: KeyWrapper, wrapped: Buffer, p: DataKeyParams): Buffer {
  const dek = provider.unwrap(wrapped, dataKeyAad(p));
  if (dek.length !== KEY_BYTES) throw new Error(`unwrapped data key is not ${KEY_BYTES} bytes`);
  return dek;
}

export interface KeyCache<V> {
  get(k: string): V | undefined;
  set(k: string, v: V): void;
  delete(k: string): void;
  clear(): void;
}

/**
 * Bounded LRU with TTL for unwrapped keys. The bound limits how many
 * plaintext keys sit in memory; the TTL makes revocation/rotation take
 * effect without a restart. Map keeps insertion order, so re-inserting on
 * access makes the first entry the least recently used.
 */
export function createKeyCache<V>(opts: { max: number; ttlMs: number }): KeyCache<V> {
  const { max, ttlMs } = opts;
  if (!Number.isInteger(max) || max < 1) throw new Error('key cache max must be a positive integer');
  if (!(ttlMs > 0)) throw new Error('key cache ttlMs must be positive');
  const entries = new Map<string, { value: V; expiresAt: number }>();
  // performance.now() is monotonic: wall-clock jumps cannot extend a TTL.
  const now = (): number => performance.now();
  return {
    get(k) {
      const e = entries.get(k);
      if (e === undefined) return undefined;
      entries.delete(k);
      if (e.expiresAt <= now()) return undefined;
      entries.set(k, e);
      return e.value;
    },
    set(k, v) {
      entries.delete(k);
      entries.set(k, { value: v, expiresAt: now() + ttlMs });
      while (entries.size > max) entries.delete(entries.keys().next().value as string);
    },
    delete(k) {
      entries.delete(k);
    },
    clear() {
      entries.clear();
    },
  };
}
