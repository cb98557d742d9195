/**
 * Reading the Merkle log: the published key, the latest signed head, an
 * entry by seq and RFC 6962 proofs, all answered from stored subtree hashes
 * (at most log2(n) rows per proof element), never by rereading entries.
 */
import type { Db, Tx } from '../../db/db.ts';
import type { Actor } from '../../access/permissions.ts';
import type { SigningKey } from '../../crypto/signing.ts';
import { assertThat, RequestError } from '../../errors.ts';
import { logRepo, type NodeRef, type StoredHead } from './log-repo.ts';
import { consistencyRanges, foldRight, inclusionRanges, perfectNodes, type Range } from './tree.ts';

const b64 = (b: Buffer) => b.toString('base64');

export const headView = (h: StoredHead) => ({ treeSize: h.treeSize, rootHash: b64(h.rootHash),
  timestamp: h.timestampMs, signature: b64(h.signature), keyId: h.keyId });

/** Hashes of proof ranges, each folded from the stored perfect subtrees it is made of. */
async function rangeHashes(tx: Tx, ranges: Range[]): Promise<Buffer[]> {
  const parts = ranges.map((r) => perfectNodes(r.lo, r.hi));
  const found = await logRepo.nodes(tx, parts.flat() as NodeRef[]);
  return parts.map((nodes) => foldRight(nodes.map((n) => {
    const hash = found.get(`${n.level}:${n.index}`);
    if (!hash) throw new Error(`audit tree node (${n.level}, ${n.index}) is missing; run tresor audit verify`);
    return hash;
  })));
}

async function treeSize(tx: Tx): Promise<number> {
  return (await logRepo.size(tx)).size;
}

export function auditLogServiceFactory({ db, signingKey }: { db: Pick<Db, 'transaction'>; signingKey: SigningKey }) {
  return {
    publicKey: () => ({ keyId: signingKey.keyId, algorithm: signingKey.algorithm, publicKey: b64(signingKey.publicKey) }),

    treeHead: (_actor: Actor) => db.transaction(async (tx) => {
      const head = await logRepo.latestHead(tx);
      assertThat(head, () => new RequestError('audit.no_tree_head'));
      return headView(head);
    }),

    /** A tenant actor reads only its own tenant's entries; another's answers 404 like a missing one. */
    entry: (actor: Actor, seq: number) => db.transaction(async (tx) => {
      const row = await logRepo.entryAt(tx, seq);
      assertThat(row && (actor.tenantId === null || row.tenantId === actor.tenantId), () => new RequestError('audit.entry_not_found'));
      assertThat(row.leaf, () => new RequestError('audit.entry_redacted'));
      return { seq, leaf: b64(row.leaf), entry: JSON.parse(row.leaf.toString('utf8')) as Record<string, unknown> };
    }),

    inclusionProof: (_actor: Actor, q: { seq: number; treeSize: number }) => db.transaction(async (tx) => {
      const size = await treeSize(tx);
      assertThat(q.treeSize <= size, () => new RequestError('audit.tree_size_out_of_range', `The log holds ${size} entries`));
      assertThat(q.seq < q.treeSize, () => new RequestError('audit.seq_out_of_range', 'seq must be smaller than treeSize'));
      return { seq: q.seq, treeSize: q.treeSize, auditPath: (await rangeHashes(tx, inclusionRanges(q.seq, q.treeSize))).map(b64) };
    }),

    consistencyProof: (_actor: Actor, q: { first: number; second: number }) => db.transaction(async (tx) => {
      const size = await treeSize(tx);
      assertThat(q.second <= size, () => new RequestError('audit.tree_size_out_of_range', `The log holds ${size} entries`));
      assertThat(q.first <= q.second, () => new RequestError('audit.tree_size_out_of_range', 'first must not exceed second'));
      return { first: q.first, second: q.second, proof: (await rangeHashes(tx, consistencyRanges(q.first, q.second))).map(b64) };
    }),
  };
}

export type AuditLogService = ReturnType<typeof auditLogServiceFactory>;
