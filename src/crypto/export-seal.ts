import { createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes,
  type KeyObject } from 'node:crypto';

// A tenant export sealed to a key the tenant gives (an X25519 public key, PEM
// SPKI): an ephemeral X25519 key pair, Diffie-Hellman with the recipient's
// key, HKDF-SHA256 (random 32-byte salt, info `tresor.export.v1`) to an
// AES-256-GCM key, a random 12-byte IV. The output is one JSON header line
// (`v`, `alg`, `epk` as base64 SPKI DER, `salt`, `iv`, base64), then the
// ciphertext, then the 16-byte GCM tag. Sealed as it streams: memory holds one
// chunk. Only the holder of the private key can open it (openSealedExport,
// `tresor tenant decrypt-export`).

export const SEAL_ALG = 'X25519-HKDF-SHA256-A256GCM';
const INFO = 'tresor.export.v1';
const TAG_BYTES = 16;

export interface SealHeader { v: 1; alg: typeof SEAL_ALG; epk: string; salt: string; iv: string }

/** The recipient's X25519 public key from PEM SPKI, or null when it is not one (a private key is not taken either). */
export function parseRecipientKey(pem: string): KeyObject | null {
  if (!/^-----BEGIN PUBLIC KEY-----\r?\n/.test(pem.trimStart())) return null;
  try {
    const key = createPublicKey({ key: pem, format: 'pem' });
    return key.asymmetricKeyType === 'x25519' ? key : null;
  } catch {
    return null;
  }
}

const aesKey = (shared: Buffer, salt: Buffer) => Buffer.from(hkdfSync('sha256', shared, salt, INFO, 32));

/** Encrypts `source` to `recipient` as it is read: header line, ciphertext chunks, tag. */
export async function* sealExport(recipient: KeyObject, source: AsyncIterable<string | Uint8Array>): AsyncGenerator<Uint8Array> {
  const eph = generateKeyPairSync('x25519');
  const salt = randomBytes(32);
  const iv = randomBytes(12);
  const key = aesKey(diffieHellman({ privateKey: eph.privateKey, publicKey: recipient }), salt);
  const header: SealHeader = { v: 1, alg: SEAL_ALG, epk: eph.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    salt: salt.toString('base64'), iv: iv.toString('base64') };
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  yield Buffer.from(JSON.stringify(header) + '\n');
  for await (const chunk of source) {
    const out = cipher.update(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    if (out.length) yield out;
  }
  const last = cipher.final();
  yield Buffer.concat([last, cipher.getAuthTag()]);
}

/** Opens a sealed export with the recipient's private key (PEM PKCS#8 or a KeyObject); throws when it is not one or was altered. */
export function openSealedExport(privateKey: string | KeyObject, sealed: Buffer): Buffer {
  const nl = sealed.indexOf(0x0a);
  if (nl < 0 || sealed.length < nl + 1 + TAG_BYTES) throw new Error('not a sealed Tresor export (no header line)');
  const header = JSON.parse(sealed.subarray(0, nl).toString('utf8')) as SealHeader;
  if (header.v !== 1 || header.alg !== SEAL_ALG) throw new Error(`unsupported sealed export (v ${header.v}, ${header.alg})`);
  const priv = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  const epk = createPublicKey({ key: Buffer.from(header.epk, 'base64'), format: 'der', type: 'spki' });
  const key = aesKey(diffieHellman({ privateKey: priv, publicKey: epk }), Buffer.from(header.salt, 'base64'));
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(header.iv, 'base64'));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  return Buffer.concat([decipher.update(sealed.subarray(nl + 1, sealed.length - TAG_BYTES)), decipher.final()]);
}
