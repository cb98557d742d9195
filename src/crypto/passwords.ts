/**
 * Password hashing with argon2id (RFC 9106) through @node-rs/argon2. The
 * parameters come from config (OWASP's minimum: m = 19 MiB, t = 2, p = 1);
 * a stored hash made with other parameters is re-hashed at the next login.
 * Hashes are PHC strings ($argon2id$v=19$m=…,t=…,p=…$salt$hash): the salt
 * (16 random bytes, drawn by the library) travels inside.
 */
import { Algorithm, hash, verify } from '@node-rs/argon2';

export interface Argon2Params { memoryKiB: number; iterations: number; parallelism: number }

export function hashPassword(password: string, p: Argon2Params): Promise<string> {
  return hash(password.normalize('NFC'), {
    algorithm: Algorithm.Argon2id, memoryCost: p.memoryKiB, timeCost: p.iterations, parallelism: p.parallelism,
  });
}

/** False for a wrong password and for a malformed stored hash alike. */
export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password.normalize('NFC'));
  } catch {
    return false;
  }
}

const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/;

/** True when `stored` was made with other parameters (or another algorithm) than `p`. */
export function needsRehash(stored: string, p: Argon2Params): boolean {
  const m = PHC.exec(stored);
  return !m || Number(m[1]) !== p.memoryKiB || Number(m[2]) !== p.iterations || Number(m[3]) !== p.parallelism;
}

/**
 * A hash of a password nobody knows, verified when the account does not
 * exist, so an unknown email costs the same argon2id time as a wrong
 * password (no user enumeration by timing).
 */
export function dummyHasher(p: Argon2Params): () => Promise<string> {
  let made: Promise<string> | undefined;
  return () => (made ??= hashPassword(`dummy-${Math.random()}-${Date.now()}`, p));
}
