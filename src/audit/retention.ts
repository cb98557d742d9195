import type { Db, Queries } from '../db/db.ts';
import { systemActor } from '../access/permissions.ts';

export interface RetentionDeps {
  db: Pick<Db, 'transaction'> & Queries;
  /** Months a closed tenant's entries are kept after its closure. */
  months: number;
  /** Entries redacted per transaction. */
  batchSize: number;
  now?: () => Date;
}

// Redaction, not deletion: the row keeps id, tenant, time, kind, action and
// leaf_hash, so the Merkle tree over all entries still verifies (the verifier
// uses leaf_hash where the leaf is gone); the leaf bytes, the actor, the
// collection and the record references go. The append-only trigger allows
// exactly this, and only in a transaction that turns tresor.audit_redact on.
const REDACT_SQL = `with gone as (update audit_entries set leaf = null, redacted_at = now(), actor_type = null, actor_id = null, collection = null
    where id in (select id from audit_entries where tenant_id = $1 and leaf is not null and created_at < $2 order by id limit $3)
    returning id)
  select count(*)::int as n from gone`;

const DUE_SQL = `select id::text as id, closed_at as "closedAt" from tenants
  where status in ('closed', 'purged') and closed_at is not null and closed_at < $1 order by closed_at`;

const monthsBefore = (t: Date, months: number) => { const d = new Date(t); d.setUTCMonth(d.getUTCMonth() - months); return d; };

export function auditRetentionFactory({ db, months, batchSize, now = () => new Date() }: RetentionDeps) {
  async function redactBatch(tenantId: string, before: Date): Promise<number> {
    return db.transaction(async (tx) => {
      await tx.query("select set_config('tresor.audit_redact', 'on', true)");
      const [{ n }] = await tx.query<{ n: number }>(REDACT_SQL, [tenantId, before, batchSize]);
      if (n === 0) return 0;
      await tx.query('delete from audit_record_refs r using audit_entries e where r.tenant_id = $1 and e.id = r.entry_id and e.leaf is null', [tenantId]);
      // The redaction itself is logged, on the platform (the tenant is closed).
      tx.audit({ action: 'audit.redact', actor: systemActor('audit-retention'), tenantId: null, target: { type: 'tenant', id: tenantId }, detail: { entries: n } });
      return n;
    });
  }

  return {
    /**
     * Redacts the entries of every tenant closed more than `months` ago
     * (entries older than that cutoff). Active tenants, and tenants closed
     * without a recorded closure time, keep everything.
     */
    async purge(stopping: () => boolean = () => false): Promise<number> {
      const cutoff = monthsBefore(now(), months);
      let total = 0;
      for (const t of await db.query<{ id: string }>(DUE_SQL, [cutoff])) {
        for (let n = -1; n !== 0 && !stopping();) { n = await redactBatch(t.id, cutoff); total += n; }
      }
      return total;
    },
  };
}

export type AuditRetention = ReturnType<typeof auditRetentionFactory>;
