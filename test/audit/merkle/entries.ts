import type { Tx } from '../../../src/db/db.ts';
import { leafHash } from '../../../src/audit/merkle/tree.ts';

// Entries arrive as the audit writer stores them: canonical JSON bytes (keys
// sorted) and their RFC 6962 leaf hash, one row each, in platform context.
export async function writeEntries(tx: Tx, tenantId: string | null, n: number, from = 0): Promise<void> {
  for (let i = from; i < from + n; i++) {
    const leaf = Buffer.from(JSON.stringify({ action: 'records.read', actor: 'key-1', at: i, tenant: tenantId }));
    await tx.query(`insert into audit_entries (tenant_id, created_at, kind, action, leaf, leaf_hash)
      values ($1, now(), 'data', 'records.read', $2, $3)`, [tenantId, leaf, leafHash(leaf)]);
  }
}

