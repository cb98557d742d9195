/**
 * `tresor audit verify`: recomputes the whole tree from the stored entries
 * and checks it against every stored signed head (and, optionally, a head
 * saved elsewhere earlier). Trusts nothing in the database but the public
 * key derived from the root key: stored subtree hashes are only compared.
 */
import type { Db } from '../../db/db.ts';
import { toBuffer } from '../../db/db.ts';
import { logRepo, type StoredHead } from './log-repo.ts';
import { verifyTreeHead } from './tree-head.ts';
import { leafHash, nodeHash, foldRight } from './tree.ts';

export interface SavedHead { treeSize: number; rootHash: Buffer; timestampMs: number; signature: Buffer; keyId: string }
export interface Finding { seq: number; reason: string }
/** `ms` is wall time; `cpuMs` this process's CPU time (the database's is not in it). */
export interface VerifyReport {
  treeSize: number; heads: number; entries: number; ms: number; cpuMs: number; firstBad: Finding | null;
  /** The newest signed tree head the log was checked against (root hash in base64), or null before the first. */
  latestHead: { treeSize: number; rootHash: string; timestampMs: number } | null;
}

/** Running RFC 6962 root of a growing list of leaf hashes: at most log2(n) subtree hashes. */
function compactRange() {
  const levels: number[] = [];
  const hashes: Buffer[] = [];
  return {
    push(hash: Buffer) {
      let level = 0;
      let h = hash;
      while (levels.length > 0 && levels[levels.length - 1] === level) {
        levels.pop();
        h = nodeHash(hashes.pop()!, h);
        level++;
      }
      levels.push(level);
      hashes.push(h);
    },
    root: () => foldRight(hashes),
  };
}

const CHUNK = 20_000;

interface Row { seq: number; entryId: number; entry: { leaf: Buffer | null; leafHash: Buffer } | undefined; node: Buffer | undefined }

/**
 * One chunk of seqs as three index range scans merged here, not one join:
 * a join probes two indexes per row, which alone would take most of the time
 * budget for a million entries. The sequencer hands out seqs in entry id
 * order, so a chunk's entries are one id range; should tampering scatter
 * them, they are fetched by id list instead.
 */
async function readChunk(db: Db, lo: number, hi: number): Promise<Row[]> {
  const log = (await db.query('select l.seq::text as seq, l.entry_id::text as id from audit_log l where l.seq >= $1 and l.seq < $2 order by l.seq', [lo, hi]))
    .map((r) => ({ seq: Number(r.seq), entryId: Number(r.id) }));
  if (log.length === 0) return [];
  const ids = log.map((l) => l.entryId);
  const [min, max] = [Math.min(...ids), Math.max(...ids)];
  const entrySql = max - min < 4 * CHUNK
    ? db.query('select id::text as id, leaf, leaf_hash from audit_entries where id >= $1 and id <= $2', [min, max])
    : db.query(`select e.id::text as id, e.leaf, e.leaf_hash from jsonb_array_elements_text($1::text::jsonb) as x(id)
        join audit_entries e on e.id = x.id::bigint`, [JSON.stringify(ids.map(String))]);
  const [entries, nodes] = await Promise.all([entrySql,
    db.query('select index::text as index, hash from audit_tree_nodes where level = 0 and index >= $1 and index < $2', [lo, hi])]);
  const byId = new Map(entries.map((e) => [Number(e.id), { leaf: e.leaf ? toBuffer(e.leaf) : null, leafHash: toBuffer(e.leaf_hash) }]));
  const bySeq = new Map(nodes.map((n) => [Number(n.index), toBuffer(n.hash)]));
  return log.map((l) => ({ ...l, entry: byId.get(l.entryId), node: bySeq.get(l.seq) }));
}

/** The first problem of one row, or null. */
function checkRow(r: Row, expected: number): { hash: Buffer | null; problem: string | null } {
  if (r.seq !== expected) return { hash: null, problem: 'no log row for this seq (deleted)' };
  if (!r.entry) return { hash: null, problem: 'the entry of this seq is missing (deleted)' };
  const hash = r.entry.leaf ? leafHash(r.entry.leaf) : r.entry.leafHash;
  if (!r.node) return { hash, problem: 'the stored leaf hash of this seq is missing' };
  if (!hash.equals(r.node)) return { hash, problem: 'the entry does not hash to the leaf sequenced at this seq (changed, swapped or replaced)' };
  return { hash, problem: null };
}

/** Checkpoints: the sizes at which a recomputed root must equal a head's root. */
function headChecks(heads: StoredHead[], publicKey: Buffer, saved: SavedHead | undefined, size: number) {
  const findings: Finding[] = [];
  const roots = new Map<number, { root: Buffer; what: string; from: number }[]>();
  const expect = (treeSize: number, root: Buffer, what: string, from: number) =>
    roots.set(treeSize, [...(roots.get(treeSize) ?? []), { root, what, from }]);
  let prev = 0;
  for (const h of heads) {
    if (!verifyTreeHead(publicKey, h)) findings.push({ seq: prev, reason: `the stored tree head of size ${h.treeSize} has no valid signature by the log's key` });
    else if (h.treeSize > size) findings.push({ seq: size, reason: `a stored tree head covers ${h.treeSize} entries, the log holds ${size} (truncated)` });
    else expect(h.treeSize, h.rootHash, `stored tree head of size ${h.treeSize}`, prev);
    prev = h.treeSize;
  }
  if (saved) {
    const from = heads.filter((h) => h.treeSize <= saved.treeSize).at(-1)?.treeSize ?? 0;
    if (!verifyTreeHead(publicKey, saved)) findings.push({ seq: 0, reason: 'the saved head has no valid signature by the log\'s key' });
    else if (saved.treeSize > size) findings.push({ seq: size, reason: `the saved head covers ${saved.treeSize} entries, the log now holds ${size} (truncated)` });
    else expect(saved.treeSize, saved.rootHash, `saved head of size ${saved.treeSize}`, Math.min(from, saved.treeSize));
  }
  return { findings, roots };
}

/**
 * An entry whose id lies behind the sequencer's progress but has no seq was
 * written behind its back. Counting first (two index-only scans) keeps the
 * anti-join off the common, untouched path.
 */
async function unsequenced(db: Db, size: number): Promise<Finding | null> {
  const [count] = await db.query(`select count(*)::text as n from audit_entries
    where id <= (select coalesce(max(entry_id), 0) from audit_log)`);
  if (Number(count!.n) === size) return null;
  const [row] = await db.query(`select e.id::text as id, (select min(seq) from audit_log l2 where l2.entry_id > e.id)::text as seq
    from audit_entries e where e.id < (select coalesce(max(entry_id), 0) from audit_log)
      and not exists (select 1 from audit_log l where l.entry_id = e.id) order by e.id limit 1`);
  return row ? { seq: Number(row.seq), reason: `entry id ${row.id} was inserted behind the sequencer (it has no seq; the log had moved past it)` } : null;
}

export async function verifyLog(db: Db, publicKey: Buffer, opts: { saved?: SavedHead; onProgress?: (done: number, total: number) => void } = {}): Promise<VerifyReport> {
  const started = Date.now();
  const cpu = process.cpuUsage();
  const heads = await db.transaction((tx) => logRepo.heads(tx));
  const { size } = await db.transaction((tx) => logRepo.size(tx));
  const { findings, roots } = headChecks(heads, publicKey, opts.saved, size);
  const range = compactRange();
  const checkRoots = (n: number) => {
    for (const c of roots.get(n) ?? []) if (!range.root().equals(c.root)) findings.push({ seq: c.from, reason: `the recomputed root differs from the ${c.what} (an entry before it was changed)` });
  };
  checkRoots(0);
  let done = 0;
  scan: for (let lo = 0; lo < size; lo += CHUNK) {
    const rows = await readChunk(db, lo, Math.min(lo + CHUNK, size));
    for (const r of rows) {
      const { hash, problem } = checkRow(r, done);
      if (problem || !hash) { findings.push({ seq: done, reason: problem ?? 'unreadable row' }); break scan; }
      range.push(hash);
      done++;
      checkRoots(done);
    }
    if (rows.length < Math.min(CHUNK, size - lo)) { findings.push({ seq: done, reason: 'no log row for this seq (deleted)' }); break; }
    opts.onProgress?.(done, size);
  }
  const behind = await unsequenced(db, size);
  if (behind) findings.push(behind);
  findings.sort((a, b) => a.seq - b.seq);
  const used = process.cpuUsage(cpu);
  const last = heads.at(-1);
  return { treeSize: size, heads: heads.length, entries: done, ms: Date.now() - started, cpuMs: Math.round((used.user + used.system) / 1000), firstBad: findings[0] ?? null,
    latestHead: last ? { treeSize: last.treeSize, rootHash: last.rootHash.toString('base64'), timestampMs: last.timestampMs } : null };
}
