import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Invitation, login-step, reset and session tokens: 256 random bits, with a
 * readable prefix so a leaked token is recognisable (secret scanners, logs).
 * Only the SHA-256 is stored: with 256 bits of entropy a fast hash is enough
 * and lets the token be looked up by its hash.
 */
export type TokenPrefix = 'tinv' | 'tenr' | 'tmfa' | 'trst' | 'tses' | 'tcsrf';

export function newToken(prefix: TokenPrefix): { token: string; hash: Buffer } {
  const token = `${prefix}_${randomBytes(32).toString('base64url')}`;
  return { token, hash: hashToken(token) };
}

export const hashToken = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/** Constant time, so timing does not reveal how much of a guessed token matched. */
export function tokenMatches(token: string, hash: Buffer): boolean {
  const given = hashToken(token);
  return given.length === hash.length && timingSafeEqual(given, hash);
}

// 32 characters without i, l, o and 0, so each random byte gives 5 unbiased bits.
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz123456789';

/** A recovery code: 16 characters from an unambiguous alphabet (80 bits), shown as xxxx-xxxx-xxxx-xxxx. */
export function newRecoveryCode(): string {
  const bytes = randomBytes(16);
  const chars = [...bytes].map((b) => RECOVERY_ALPHABET[b & 31]);
  return [0, 4, 8, 12].map((i) => chars.slice(i, i + 4).join('')).join('-');
}

/** Recovery codes are compared without dashes, spaces or case. */
export const hashRecoveryCode = (code: string): string =>
  createHash('sha256').update(code.toLowerCase().replace(/[\s-]/g, ''), 'utf8').digest('hex');
