/**
 * API key secrets: `trk_<prefix>_<secret>`.
 * The prefix (8 hex) is stored in clear to look the key up; the 256-bit
 * secret makes brute force infeasible, so a fast SHA-256 is enough for the
 * stored hash (slow password hashes are for low-entropy human secrets).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const API_KEY_RE = /^trk_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$/;

export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

export function newApiKey(): { key: string; prefix: string; hash: Buffer } {
  const prefix = randomBytes(4).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const key = `trk_${prefix}_${secret}`;
  return { key, prefix, hash: hashApiKey(key) };
}

/** Returns the lookup prefix, or null if the string is not a well-formed key. */
export function parseApiKey(key: string): { prefix: string } | null {
  if (typeof key !== 'string') return null;
  const m = API_KEY_RE.exec(key);
  return m === null ? null : { prefix: m[1] as string };
}

/**
 * Constant-time comparison so response timing does not reveal how many
 * leading bytes of a guessed hash matched. Length is not secret here
 * (hashes are fixed-size), so an early length check is fine.
 */
export function safeEqual(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}
