#!/usr/bin/env node
// An auditor's check of a Tresor audit log, with nothing but Node's standard
// library, the public API and the public key pinned earlier. No Tresor code.
//
//   TRESOR_URL=… TRESOR_TOKEN=<auditor key> node verify-audit-log.mjs PINNED_KEY_BASE64 SAVED_HEAD.json [SEQ…]
//
// 1. the current tree head is signed by the pinned key (RFC 6962 §3.5 input, 50 bytes);
// 2. it extends the saved head (RFC 9162 §2.1.4.2 consistency proof);
// 3. each SEQ's entry is in it (RFC 9162 §2.1.3.2 inclusion proof).
// Exit 0 when all hold, 1 otherwise.
import { createHash, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';

const [pinned, savedFile, ...seqs] = process.argv.slice(2);
const api = async (path) => {
  const res = await fetch(new URL(path, process.env.TRESOR_URL), { headers: { authorization: `Bearer ${process.env.TRESOR_TOKEN}` } });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
};
const b64 = (s) => Buffer.from(s, 'base64');
const sha256 = (...parts) => createHash('sha256').update(Buffer.concat(parts)).digest();
const node = (l, r) => sha256(Buffer.from([1]), l, r);
const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64(pinned).toString('base64url') }, format: 'jwk' });

function headSigned(h) {
  const input = Buffer.alloc(50);
  input[1] = 1; // version v1 (0), signature type tree_hash (1)
  input.writeBigUInt64BE(BigInt(h.timestamp), 2);
  input.writeBigUInt64BE(BigInt(h.treeSize), 10);
  b64(h.rootHash).copy(input, 18);
  return verify(null, input, key, b64(h.signature));
}

function rootFromInclusion(index, size, leaf, path) {
  let fn = BigInt(index), sn = BigInt(size - 1), r = leaf;
  for (const p of path) {
    if (sn === 0n) return null;
    if (fn & 1n || fn === sn) { r = node(p, r); while (!(fn & 1n) && fn !== 0n) { fn >>= 1n; sn >>= 1n; } } else r = node(r, p);
    fn >>= 1n; sn >>= 1n;
  }
  return sn === 0n ? r : null;
}

function consistent(m, n, oldRoot, newRoot, proof) {
  if (m === n) return proof.length === 0 && oldRoot.equals(newRoot);
  if (m === 0) return proof.length === 0;
  const path = (m & (m - 1)) === 0 ? [oldRoot, ...proof] : proof;
  if (path.length === 0) return false;
  let fn = BigInt(m - 1), sn = BigInt(n - 1);
  while (fn & 1n) { fn >>= 1n; sn >>= 1n; }
  let fr = path[0], sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) return false;
    if (fn & 1n || fn === sn) { fr = node(c, fr); sr = node(c, sr); while (!(fn & 1n) && fn !== 0n) { fn >>= 1n; sn >>= 1n; } } else sr = node(sr, c);
    fn >>= 1n; sn >>= 1n;
  }
  return sn === 0n && fr.equals(oldRoot) && sr.equals(newRoot);
}

const saved = JSON.parse(readFileSync(savedFile, 'utf8'));
const head = await api('/v1/audit/tree-head');
const checks = [
  ['saved head signed by the pinned key', headSigned(saved)],
  [`current head (size ${head.treeSize}) signed by the pinned key`, headSigned(head)],
];
if (head.treeSize >= saved.treeSize) {
  const { proof } = await api(`/v1/audit/proofs/consistency?first=${saved.treeSize}&second=${head.treeSize}`);
  checks.push([`log of ${head.treeSize} extends the saved ${saved.treeSize}`, consistent(saved.treeSize, head.treeSize, b64(saved.rootHash), b64(head.rootHash), proof.map(b64))]);
} else checks.push([`log of ${head.treeSize} is shorter than the saved ${saved.treeSize} (truncated)`, false]);
for (const seq of seqs.map(Number)) {
  const entry = await api(`/v1/audit/entries/${seq}`);
  const { auditPath } = await api(`/v1/audit/proofs/inclusion?seq=${seq}&treeSize=${head.treeSize}`);
  const root = rootFromInclusion(seq, head.treeSize, sha256(Buffer.from([0]), b64(entry.leaf)), auditPath.map(b64));
  checks.push([`entry ${seq} is in the log`, root !== null && root.equals(b64(head.rootHash))]);
}
for (const [what, ok] of checks) console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
process.exit(checks.every(([, ok]) => ok) ? 0 : 1);
