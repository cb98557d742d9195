/**
 * Signed tree heads. The signed bytes are RFC 6962 §3.5's TreeHeadSignature
 * for v1: version 0x00 ‖ signature type tree_hash 0x01 ‖ timestamp (uint64
 * ms, big-endian) ‖ tree size (uint64, big-endian) ‖ root hash (32 bytes):
 * 50 bytes any verifier can rebuild from the published head alone.
 */
import { verifyEd25519, type SigningKey } from '../../crypto/signing.ts';
import { foldRight, HASH_BYTES, nodeHash, perfectNodes } from './tree.ts';
import type { NewNode, StoredHead } from './log-repo.ts';

export const AUDIT_SIGNING_PURPOSE = 'audit.tree_head';
export const TREE_HEAD_INPUT_BYTES = 50;

export function treeHeadInput(treeSize: number, timestampMs: number, rootHash: Buffer): Buffer {
  if (rootHash.length !== HASH_BYTES) throw new Error('root hash must be 32 bytes');
  const out = Buffer.alloc(TREE_HEAD_INPUT_BYTES);
  out[0] = 0x00;
  out[1] = 0x01;
  out.writeBigUInt64BE(BigInt(timestampMs), 2);
  out.writeBigUInt64BE(BigInt(treeSize), 10);
  rootHash.copy(out, 18);
  return out;
}

export function signTreeHead(key: SigningKey, treeSize: number, timestampMs: number, rootHash: Buffer): StoredHead {
  return { treeSize, rootHash, timestampMs, keyId: key.keyId, signature: key.sign(treeHeadInput(treeSize, timestampMs, rootHash)) };
}

/** True only for a head signed by `publicKey` over exactly these fields. */
export function verifyTreeHead(publicKey: Buffer, h: Pick<StoredHead, 'treeSize' | 'timestampMs' | 'rootHash' | 'signature'>): boolean {
  if (h.rootHash.length !== HASH_BYTES || !Number.isSafeInteger(h.treeSize) || !Number.isSafeInteger(h.timestampMs) || h.treeSize < 0 || h.timestampMs < 0) return false;
  return verifyEd25519(publicKey, treeHeadInput(h.treeSize, h.timestampMs, h.rootHash), h.signature);
}

/** The perfect subtrees of a tree of `size` leaves, largest first (the "compact range"). */
export const frontierRefs = (size: number) => perfectNodes(0, size);

/**
 * Appends leaf hashes to a tree given its frontier, returning every subtree
 * node completed on the way (to store) and the new frontier and root. Each
 * leaf costs one hash plus one per subtree it completes: amortised two.
 */
export function appendLeaves(frontier: NewNode[], size: number, leafHashes: Buffer[]) {
  const stack = [...frontier];
  const created: NewNode[] = [];
  leafHashes.forEach((hash, i) => {
    let node: NewNode = { level: 0, index: size + i, hash };
    created.push(node);
    while (stack.length > 0 && stack[stack.length - 1]!.level === node.level) {
      const left = stack.pop()!;
      node = { level: node.level + 1, index: left.index / 2, hash: nodeHash(left.hash, node.hash) };
      created.push(node);
    }
    stack.push(node);
  });
  return { created, frontier: stack, size: size + leafHashes.length, root: foldRight(stack.map((n) => n.hash)) };
}
