/**
 * How a signature travels with an annex, whatever its format: one trailer
 * line appended after the document, in the format's own comment syntax
 * (`<!-- … -->` for HTML and Markdown; a `%` comment after `%%EOF` for
 * PDF, which readers ignore). The trailer holds an Ed25519 signature over
 * SHA-256 of every byte before it, and must itself be byte-exact: changing
 * any byte of the file, trailer included, fails verification.
 */
import { createHash } from 'node:crypto';
import { type SigningKey, signingKeyId, verifyEd25519 } from '../crypto/signing.ts';

export const TOM_SIGNING_PURPOSE = 'tom.report';
const CONTEXT = Buffer.from('tresor.tom.report.v1\n');

export interface Trailer { v: 1; alg: 'Ed25519'; keyId: string; publicKey: string; sha256: string; signature: string }

const MARKERS = {
  comment: { open: '\n<!-- tresor-signature ', close: ' -->\n' },
  pdf: { open: '\n%tresor-signature ', close: '\n' },
} as const;
type Style = keyof typeof MARKERS;
const styleOf = (format: 'md' | 'html' | 'pdf'): Style => (format === 'pdf' ? 'pdf' : 'comment');

const message = (sha256: Buffer) => Buffer.concat([CONTEXT, sha256]);
const canonical = (t: Trailer) => JSON.stringify({ v: t.v, alg: t.alg, keyId: t.keyId, publicKey: t.publicKey, sha256: t.sha256, signature: t.signature });

export function signDocument(content: Buffer, format: 'md' | 'html' | 'pdf', key: SigningKey): Buffer {
  const sha = createHash('sha256').update(content).digest();
  const trailer: Trailer = { v: 1, alg: 'Ed25519', keyId: key.keyId, publicKey: key.publicKey.toString('base64'), sha256: sha.toString('hex'),
    signature: key.sign(message(sha)).toString('base64') };
  const m = MARKERS[styleOf(format)];
  return Buffer.concat([content, Buffer.from(`${m.open}${canonical(trailer)}${m.close}`)]);
}

export type VerifyResult =
  | { ok: true; keyId: string; publicKey: string; sha256: string; pinned: boolean }
  | { ok: false; reason: string };

function findTrailer(bytes: Buffer): { at: number; trailer: Trailer } | { reason: string } {
  for (const m of Object.values(MARKERS)) {
    const at = bytes.lastIndexOf(Buffer.from(m.open));
    if (at < 0 || !bytes.subarray(bytes.length - m.close.length).equals(Buffer.from(m.close))) continue;
    const text = bytes.subarray(at + m.open.length, bytes.length - m.close.length).toString('utf8');
    let parsed: Trailer;
    try { parsed = JSON.parse(text); } catch { return { reason: 'the signature trailer is not valid JSON' }; }
    if (!parsed || typeof parsed !== 'object' || canonical(parsed) !== text || parsed.v !== 1 || parsed.alg !== 'Ed25519') {
      return { reason: 'the signature trailer was altered' };
    }
    return { at, trailer: parsed };
  }
  return { reason: 'no Tresor signature trailer at the end of the file' };
}

/** Checks a signed annex; with `pinned` (the raw public key) it must be that key that signed. */
export function verifyDocument(bytes: Buffer, pinned?: Buffer): VerifyResult {
  const found = findTrailer(bytes);
  if ('reason' in found) return { ok: false, reason: found.reason };
  const { at, trailer } = found;
  const publicKey = Buffer.from(trailer.publicKey, 'base64');
  if (pinned && !pinned.equals(publicKey)) return { ok: false, reason: `signed by key ${trailer.keyId}, not by the pinned key ${signingKeyId(pinned)}` };
  if (signingKeyId(publicKey) !== trailer.keyId) return { ok: false, reason: 'the key id does not match the public key' };
  const sha = createHash('sha256').update(bytes.subarray(0, at)).digest();
  if (sha.toString('hex') !== trailer.sha256) return { ok: false, reason: 'the content was changed after signing (SHA-256 differs)' };
  if (!verifyEd25519(publicKey, message(sha), Buffer.from(trailer.signature, 'base64'))) return { ok: false, reason: 'the signature does not verify' };
  return { ok: true, keyId: trailer.keyId, publicKey: trailer.publicKey, sha256: trailer.sha256, pinned: !!pinned };
}
