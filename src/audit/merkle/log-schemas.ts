import { Type } from 'typebox';

const EXAMPLE_HASH = 'bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=';
const Base64 = (description: string, example = EXAMPLE_HASH) => Type.String({ contentEncoding: 'base64', description, examples: [example] });
// Sizes and seqs are JSON numbers; 2^53 entries is beyond any log this serves.
const Count = (description: string) => Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description });

export const PublicKey = Type.Object({
  keyId: Type.String({ description: 'First 8 bytes of SHA-256(public key), hex' }),
  algorithm: Type.Literal('Ed25519'),
  publicKey: Base64('The raw 32-byte Ed25519 public key (RFC 8032)'),
}, { title: 'AuditPublicKey' });

export const TreeHead = Type.Object({
  treeSize: Count('Entries covered: seq 0 … treeSize − 1'),
  rootHash: Base64('RFC 6962 Merkle tree hash of the first treeSize entries'),
  timestamp: Count('Milliseconds since the Unix epoch'),
  signature: Base64('Ed25519 over 0x00 ‖ 0x01 ‖ timestamp (uint64 BE) ‖ treeSize (uint64 BE) ‖ rootHash: 50 bytes', Buffer.alloc(64, 7).toString('base64')),
  keyId: Type.String(),
}, { title: 'SignedTreeHead' });

export const SeqParams = Type.Object({ seq: Count('0-based leaf index') });

export const LogEntry = Type.Object({
  seq: Count('0-based leaf index'),
  leaf: Base64('The canonical bytes hashed into the tree: SHA-256(0x00 ‖ leaf) is the leaf hash', 'eyJhY3Rpb24iOiJyZWNvcmRzLnJlYWQifQ=='),
  entry: Type.Object({}, { additionalProperties: true, description: 'The same bytes parsed as JSON' }),
}, { title: 'AuditLogEntry' });

export const InclusionQuery = Type.Object({ seq: Count('0-based leaf index'), treeSize: Count('A size the log has reached') },
  { additionalProperties: false });
export const InclusionProof = Type.Object({
  seq: Count('0-based leaf index'), treeSize: Count('Tree size the path leads to'),
  auditPath: Type.Array(Base64('A node hash'), { description: 'RFC 6962 PATH(seq, D[treeSize]), leaf side first' }),
}, { title: 'InclusionProof' });

export const ConsistencyQuery = Type.Object({ first: Count('The older tree size'), second: Count('The newer tree size') },
  { additionalProperties: false });
export const ConsistencyProof = Type.Object({
  first: Count('The older tree size'), second: Count('The newer tree size'),
  proof: Type.Array(Base64('A node hash'), { description: 'RFC 6962 PROOF(first, D[second])' }),
}, { title: 'ConsistencyProof' });
