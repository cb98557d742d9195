/**
 * Ed25519 signing keys (RFC 8032), one per purpose, derived from the root
 * key provider. Deriving instead of storing means a restored store signs
 * with the same key as long as it opens with the same key provider, and a
 * leaked database holds no signing key at all. Each purpose (audit tree
 * heads, backup restore evidence, …) gets its own key, so a signature made
 * for one can never be replayed as the other.
 */
import { createHash, createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import type { KeyProvider } from './key-provider.ts';

export const SIGNATURE_BYTES = 64;
export const PUBLIC_KEY_BYTES = 32;
const SEED_BYTES = 32;

// DER prefixes of PKCS#8 / SPKI for Ed25519 (RFC 8410): Node imports raw keys only through DER or JWK.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export interface SigningKey {
  /** First 8 bytes of SHA-256(raw public key), hex: names the key without revealing anything. */
  readonly keyId: string;
  readonly algorithm: 'Ed25519';
  /** Raw 32-byte public key (RFC 8032 encoding). */
  readonly publicKey: Buffer;
  sign(message: Buffer): Buffer;
  verify(message: Buffer, signature: Buffer): boolean;
}

export function signingKeyId(publicKey: Buffer): string {
  return createHash('sha256').update(publicKey).digest().subarray(0, 8).toString('hex');
}

function publicKeyObject(raw: Buffer): KeyObject {
  if (raw.length !== PUBLIC_KEY_BYTES) throw new Error(`Ed25519 public key must be ${PUBLIC_KEY_BYTES} bytes`);
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

/**
 * What an independent verifier does: only the raw public key, the message
 * and the signature. A wrong-length signature is simply invalid, never an
 * exception, so callers can report "bad signature" uniformly.
 */
export function verifyEd25519(publicKey: Buffer, message: Buffer, signature: Buffer): boolean {
  if (signature.length !== SIGNATURE_BYTES || publicKey.length !== PUBLIC_KEY_BYTES) return false;
  return nodeVerify(null, message, publicKeyObject(publicKey), signature);
}

/** Exported so RFC 8032's published vectors exercise the same path as derived keys. */
export function signingKeyFromSeed(seed: Buffer): SigningKey {
  if (seed.length !== SEED_BYTES) throw new Error(`Ed25519 seed must be ${SEED_BYTES} bytes`);
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const publicKey = Buffer.from(spki.subarray(SPKI_PREFIX.length));
  return Object.freeze({
    keyId: signingKeyId(publicKey),
    algorithm: 'Ed25519' as const,
    publicKey,
    sign: (message: Buffer): Buffer => nodeSign(null, message, privateKey),
    verify: (message: Buffer, signature: Buffer): boolean => verifyEd25519(publicKey, message, signature),
  });
}

/**
 * The signing key for `purpose` (e.g. 'audit.tree_head'). The seed is the
 * key provider's HKDF output under a 'signing.' label, so it is never a
 * data key nor the root key itself.
 */
export function signingKeyFor(provider: KeyProvider, purpose: string): SigningKey {
  const seed = provider.deriveKey(`signing.${purpose}`);
  try {
    return signingKeyFromSeed(seed);
  } finally {
    seed.fill(0);
  }
}
