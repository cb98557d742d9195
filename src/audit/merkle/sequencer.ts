/**
 * The sequencer: one leader (jobs module) gives committed audit entries their
 * `seq`, extends the Merkle tree and signs a new tree head per batch. Tenant
 * transactions never touch a global counter, so tenants do not serialise on it.
 */
import type { Db, Tx } from '../../db/db.ts';
import type { SigningKey } from '../../crypto/signing.ts';
import { logRepo, type NewNode } from './log-repo.ts';
import { appendLeaves, frontierRefs, signTreeHead } from './tree-head.ts';
import { EMPTY_ROOT, leafHash } from './tree.ts';

export interface SequencerDeps {
  db: Pick<Db, 'transaction'>;
  signingKey: SigningKey;
  /** Entries per tree extension (one signed head each). */
  batchSize: number;
  now?: () => Date;
}

export async function loadFrontier(tx: Tx, size: number): Promise<NewNode[]> {
  const refs = frontierRefs(size);
  const found = await logRepo.nodes(tx, refs);
  return refs.map((r) => {
    const hash = found.get(`${r.level}:${r.index}`);
    if (!hash) throw new Error(`audit tree node (${r.level}, ${r.index}) is missing; run tresor audit verify`);
    return { ...r, hash };
  });
}

export function sequencerFactory({ db, signingKey, batchSize, now = () => new Date() }: SequencerDeps) {
  /** Head time never goes back, even when leadership moves to a node whose clock is behind. */
  async function signAndStore(tx: Tx, treeSize: number, root: Buffer): Promise<void> {
    const previous = await logRepo.latestHead(tx);
    const timestampMs = Math.max(now().getTime(), previous?.timestampMs ?? 0);
    await logRepo.insertHead(tx, signTreeHead(signingKey, treeSize, timestampMs, root));
  }

  /** One batch in one transaction: log rows, subtree nodes and the signed head commit together. */
  async function extendOnce(horizon: number): Promise<number> {
    return db.transaction(async (tx) => {
      const { size, lastEntryId } = await logRepo.size(tx);
      const entries = await logRepo.pending(tx, { after: lastEntryId, upTo: horizon, limit: batchSize });
      if (entries.length === 0) {
        if (size === 0 && !(await logRepo.latestHead(tx))) await signAndStore(tx, 0, EMPTY_ROOT);
        return 0;
      }
      // The leaf is rehashed, not taken from audit_entries.leaf_hash: the tree commits to the bytes themselves.
      const hashes = entries.map((e) => (e.leaf ? leafHash(e.leaf) : e.leafHash));
      const grown = appendLeaves(await loadFrontier(tx, size), size, hashes);
      await logRepo.append(tx, { log: entries.map((e, i) => ({ seq: size + i, entryId: e.id })), nodes: grown.created });
      await signAndStore(tx, grown.size, grown.root);
      return entries.length;
    });
  }

  /** Sequences everything committed before the run started, batch by batch; returns how many entries. */
  async function sequence(stopping: () => boolean = () => false): Promise<number> {
    const horizon = await db.transaction((tx) => logRepo.horizon(tx));
    let total = 0;
    for (;;) {
      const n = await extendOnce(horizon);
      total += n;
      if (n < batchSize || stopping()) return total;
    }
  }

  return { sequence };
}
