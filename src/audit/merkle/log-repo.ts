import type { Tx } from '../../db/db.ts';
import { toBuffer } from '../../db/db.ts';

/** A signed tree head as stored (RFC 6962 §3.5 fields). */
export interface StoredHead { treeSize: number; rootHash: Buffer; timestampMs: number; signature: Buffer; keyId: string }
export interface NodeRef { level: number; index: number }
export interface NewNode extends NodeRef { hash: Buffer }
export interface PendingEntry { id: number; leaf: Buffer | null; leafHash: Buffer }

const headColumns = `tree_size::text as "treeSize", root_hash as "rootHash", timestamp_ms::text as "timestampMs", signature, key_id as "keyId"`;
const toHead = (r: any): StoredHead => ({ treeSize: Number(r.treeSize), rootHash: toBuffer(r.rootHash), timestampMs: Number(r.timestampMs),
  signature: toBuffer(r.signature), keyId: r.keyId });

// Platform transactions only (the owner, not the app role): the log spans all tenants.
export const logRepo = {
  /**
   * Every id up to the answer is settled (committed or rolled back): SHARE
   * mode waits for every transaction holding ROW EXCLUSIVE on audit_entries,
   * i.e. every insert under way, and nextval runs inside such an insert. So no
   * entry with a smaller id can still appear later, and ids committed out of
   * order are never skipped.
   */
  horizon: async (tx: Tx): Promise<number> => {
    await tx.query('lock table audit_entries in share mode');
    const [row] = await tx.query('select coalesce(max(id), 0)::text as id from audit_entries');
    return Number(row!.id);
  },

  size: async (tx: Tx): Promise<{ size: number; lastEntryId: number }> => {
    const [row] = await tx.query(`select coalesce((select seq + 1 from audit_log order by seq desc limit 1), 0)::text as size,
      coalesce((select entry_id from audit_log order by entry_id desc limit 1), 0)::text as last`);
    return { size: Number(row!.size), lastEntryId: Number(row!.last) };
  },

  pending: async (tx: Tx, p: { after: number; upTo: number; limit: number }): Promise<PendingEntry[]> =>
    (await tx.query(`select e.id::text as id, e.leaf, e.leaf_hash as "leafHash" from audit_entries e
       where e.id > $1 and e.id <= $2 order by e.id limit $3`, [p.after, p.upTo, p.limit]))
      .map((r) => ({ id: Number(r.id), leaf: r.leaf ? toBuffer(r.leaf) : null, leafHash: toBuffer(r.leafHash) })),

  nodes: async (tx: Tx, refs: NodeRef[]): Promise<Map<string, Buffer>> => {
    if (refs.length === 0) return new Map();
    const rows = await tx.query(`select n.level, n.index::text as index, n.hash
       from jsonb_to_recordset($1::text::jsonb) as x(level smallint, index bigint)
       join audit_tree_nodes n on n.level = x.level and n.index = x.index`, [JSON.stringify(refs)]);
    return new Map(rows.map((r) => [`${r.level}:${r.index}`, toBuffer(r.hash)]));
  },

  append: async (tx: Tx, p: { log: { seq: number; entryId: number }[]; nodes: NewNode[] }): Promise<void> => {
    await tx.query(`insert into audit_log (seq, entry_id) select x.seq, x.entry_id
       from jsonb_to_recordset($1::text::jsonb) as x(seq bigint, entry_id bigint)`,
    [JSON.stringify(p.log.map((l) => ({ seq: l.seq, entry_id: l.entryId })))]);
    await tx.query(`insert into audit_tree_nodes (level, index, hash) select x.level, x.index, decode(x.hash, 'hex')
       from jsonb_to_recordset($1::text::jsonb) as x(level smallint, index bigint, hash text)`,
    [JSON.stringify(p.nodes.map((n) => ({ level: n.level, index: n.index, hash: n.hash.toString('hex') })))]);
  },

  insertHead: async (tx: Tx, h: StoredHead): Promise<void> => {
    await tx.query(`insert into audit_tree_heads (tree_size, root_hash, timestamp_ms, signature, key_id)
       values ($1, $2, $3, $4, $5) on conflict (tree_size) do nothing`, [h.treeSize, h.rootHash, h.timestampMs, h.signature, h.keyId]);
  },

  latestHead: async (tx: Tx): Promise<StoredHead | null> => {
    const [row] = await tx.query(`select ${headColumns} from audit_tree_heads order by tree_size desc limit 1`);
    return row ? toHead(row) : null;
  },

  heads: async (tx: Tx): Promise<StoredHead[]> =>
    (await tx.query(`select ${headColumns} from audit_tree_heads order by tree_size`)).map(toHead),

  entryAt: async (tx: Tx, seq: number): Promise<{ tenantId: string | null; leaf: Buffer | null } | null> => {
    const [row] = await tx.query(`select e.tenant_id as "tenantId", e.leaf from audit_log l
       join audit_entries e on e.id = l.entry_id where l.seq = $1`, [seq]);
    return row ? { tenantId: row.tenantId, leaf: row.leaf ? toBuffer(row.leaf) : null } : null;
  },
};
