import type { Queries, TenantTx, Tx } from '../db/db.ts';

export interface SupportGrantRow {
  id: string; requesterType: string; requesterId: string; reason: string; minutes: number; status: 'pending' | 'approved';
  requestedAt: Date; approvedBy: string | null; approvedAt: Date | null; expiresAt: Date | null;
}

const columns = `id, requester_type as "requesterType", requester_id as "requesterId", reason, minutes, status,
  requested_at as "requestedAt", approved_by as "approvedBy", approved_at as "approvedAt", expires_at as "expiresAt"`;

export const supportGrantsRepo = {
  insert: async (tx: TenantTx, g: { id: string; requesterType: string; requesterId: string; reason: string; minutes: number; requestedAt: Date }) =>
    (await tx.query<SupportGrantRow>(
      `insert into support_grants (tenant_id, id, requester_type, requester_id, reason, minutes, requested_at)
       values ($1, $2, $3, $4, $5, $6, $7) returning ${columns}`,
      [tx.tenantId, g.id, g.requesterType, g.requesterId, g.reason, g.minutes, g.requestedAt],
    ))[0],
  /** Approves a pending grant: its time starts now. Undefined when there is no such pending grant. */
  approve: async (tx: TenantTx, id: string, by: string, at: Date) =>
    (await tx.query<SupportGrantRow>(
      `update support_grants set status = 'approved', approved_by = $2, approved_at = $3, expires_at = $3::timestamptz + make_interval(mins => minutes)
       where id = $1 and status = 'pending' returning ${columns}`,
      [id, by, at],
    ))[0],
  find: async (tx: TenantTx, id: string) =>
    (await tx.query<SupportGrantRow>(`select ${columns} from support_grants where id = $1`, [id]))[0],
  list: (tx: TenantTx, limit: number) =>
    tx.query<SupportGrantRow>(`select ${columns} from support_grants order by id desc limit $1`, [limit]),
  /** The requester's grant that is approved and not yet expired at `at`, if any. */
  findActive: async (tx: TenantTx, requesterId: string, at: Date) =>
    (await tx.query<SupportGrantRow>(
      `select ${columns} from support_grants where requester_id = $1 and status = 'approved' and expires_at > $2
       order by expires_at desc limit 1`, [requesterId, at],
    ))[0],
  isPreauthorized: async (tx: Queries | Tx, tenantId: string) =>
    (await tx.query<{ p: boolean }>('select support_preauthorized as p from tenants where id = $1', [tenantId]))[0]?.p,
  setPreauthorized: async (tx: Tx, tenantId: string, on: boolean) =>
    (await tx.query('update tenants set support_preauthorized = $2 where id = $1 returning id', [tenantId, on])).length > 0,
};
