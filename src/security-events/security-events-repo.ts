import type { Queries, TenantTx, Tx } from '../db/db.ts';
import type { SecurityEventType } from './security-event-types.ts';

export interface SecurityEventRow {
  id: string; tenantId: string | null; type: SecurityEventType; actorType: string; actorId: string; actorRole: string;
  ip: string | null; userAgent: string | null; detail: Record<string, unknown>; createdAt: Date;
}

export interface NewSecurityEvent {
  id: string; type: SecurityEventType; actorType: string; actorId: string; actorRole: string;
  ip: string | null; userAgent: string | null; detail: Record<string, unknown>; createdAt: Date;
}

const columns = `id, tenant_id as "tenantId", type, actor_type as "actorType", actor_id as "actorId", actor_role as "actorRole",
  ip, user_agent as "userAgent", detail, created_at as "createdAt"`;

export interface EventFilter { types: string[] | null; from: Date | null; to: Date | null; before: string | null; limit: number }

function insert(tx: Tx, tenantId: string | null, e: NewSecurityEvent) {
  return tx.query(
    `insert into security_events (id, tenant_id, type, actor_type, actor_id, actor_role, ip, user_agent, detail, created_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9::text::jsonb, $10)`,
    [e.id, tenantId, e.type, e.actorType, e.actorId, e.actorRole, e.ip, e.userAgent, JSON.stringify(e.detail), e.createdAt],
  );
}

// Newest first: ids are UUIDv7, so their order is the order of recording.
// Types travel as a JSON array (no array parameters: fetch_types is off).
function list(tx: Queries, tenantId: string | null, f: EventFilter) {
  return tx.query<SecurityEventRow>(
    `select ${columns} from security_events
     where tenant_id is not distinct from $1::uuid
       and ($2::text is null or type in (select jsonb_array_elements_text($2::text::jsonb)))
       and ($3::timestamptz is null or created_at >= $3) and ($4::timestamptz is null or created_at < $4)
       and ($5::uuid is null or id < $5::uuid)
     order by id desc limit $6`,
    [tenantId, f.types ? JSON.stringify(f.types) : null, f.from, f.to, f.before, f.limit],
  );
}

export const securityEventsRepo = {
  /**
   * The place of event `e` among the events of its type (and actor, when
   * given) in the window before it, on the tenant it was recorded on (null: the
   * platform's). Read in that context, so every node's events count; the event
   * itself counts whether or not its transaction has committed yet.
   */
  burstPosition: async (q: Queries, tenantId: string | null, e: { id: string; type: string; createdAt: Date; actorType?: string; actorId?: string }, windowMs: number) => {
    const [row] = await q.query<{ n: number }>(
      `select count(*)::int as n from security_events
       where tenant_id is not distinct from $1::uuid and type = $2 and created_at > $3 and created_at <= $4 and id <> $5::uuid
         and ($6::text is null or (actor_type = $6 and actor_id = $7))`,
      [tenantId, e.type, new Date(e.createdAt.getTime() - windowMs), e.createdAt, e.id, e.actorType ?? null, e.actorId ?? null]);
    return row!.n + 1;
  },

  insert: (tx: TenantTx, e: NewSecurityEvent) => insert(tx, tx.tenantId, e),
  insertPlatform: (tx: Tx, e: NewSecurityEvent) => insert(tx, null, e),
  list: (tx: TenantTx, f: EventFilter) => list(tx, tx.tenantId, f),
  listPlatform: (tx: Queries, f: EventFilter) => list(tx, null, f),
};
