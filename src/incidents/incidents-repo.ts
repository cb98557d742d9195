import type { Queries, TenantTx, Tx } from '../db/db.ts';

export type Severity = 'low' | 'medium' | 'high' | 'critical';

export interface IncidentInput {
  title: string; category: string; severity: Severity; detectedAt: Date; awareAt: Date;
  affectedSystems: string[]; dataCategories: string[]; description: string;
}

export interface IncidentRow extends IncidentInput {
  id: string; status: 'open' | 'closed'; rule: string | null; ruleSubject: string | null;
  openedByType: string; openedById: string; createdAt: Date;
  notifiable: boolean | null; decisionReason: string | null; consequences: string | null; measures: string | null;
  authorityNotifiedAt: Date | null; decidedAt: Date | null; decidedByType: string | null; decidedById: string | null;
  warnedHours: number; closedAt: Date | null; lessonsLearned: string | null; closedByType: string | null; closedById: string | null;
}

export interface EventRow { incidentId: string; seq: number; at: Date; kind: string; actorType: string; actorId: string; note: string }

export interface Decision { notifiable: boolean; reason: string; consequences: string | null; measures: string | null; authorityNotifiedAt: Date | null }

export interface AffectedQuery { actorId: string; from: string; to: string; actions: string[] }

export interface TenantPartRow {
  incidentId: string; tenantId: string; query: AffectedQuery; recordsRead: number; recordsChanged: number; recordsTotal: number;
  recordIds: Record<string, string[]>; recordIdsTruncated: boolean; computedAt: Date;
}

const columns = `id, title, category, severity, status, detected_at as "detectedAt", aware_at as "awareAt",
  affected_systems as "affectedSystems", data_categories as "dataCategories", description, rule, rule_subject as "ruleSubject",
  opened_by_type as "openedByType", opened_by_id as "openedById", created_at as "createdAt",
  notifiable, decision_reason as "decisionReason", consequences, measures, authority_notified_at as "authorityNotifiedAt",
  decided_at as "decidedAt", decided_by_type as "decidedByType", decided_by_id as "decidedById", warned_hours as "warnedHours",
  closed_at as "closedAt", lessons_learned as "lessonsLearned", closed_by_type as "closedByType", closed_by_id as "closedById"`;
const eventColumns = `incident_id as "incidentId", seq, at, kind, actor_type as "actorType", actor_id as "actorId", note`;
const partColumns = `incident_id as "incidentId", tenant_id as "tenantId", query, records_read as "recordsRead",
  records_changed as "recordsChanged", records_total as "recordsTotal", record_ids as "recordIds",
  record_ids_truncated as "recordIdsTruncated", computed_at as "computedAt"`;

const first = <T>(rows: T[]): T | undefined => rows[0];

// The register lives in platform transactions; a tenant transaction (RLS)
// sees only the incidents that have a part for its tenant, and that part.
export const incidentsRepo = {
  insert: async (tx: Tx, r: { id: string; input: IncidentInput; rule: string | null; ruleSubject: string | null; actor: { type: string; id: string }; at: Date }) =>
    (await tx.query<IncidentRow>(
      `insert into incidents (id, title, category, severity, status, detected_at, aware_at, affected_systems, data_categories, description,
         rule, rule_subject, opened_by_type, opened_by_id, created_at)
       values ($1, $2, $3, $4, 'open', $5, $6, $7::text::jsonb, $8::text::jsonb, $9, $10, $11, $12, $13, $14) returning ${columns}`,
      [r.id, r.input.title, r.input.category, r.input.severity, r.input.detectedAt, r.input.awareAt, JSON.stringify(r.input.affectedSystems),
        JSON.stringify(r.input.dataCategories), r.input.description, r.rule, r.ruleSubject, r.actor.type, r.actor.id, r.at]))[0],

  find: async (q: Queries | TenantTx, id: string) => first(await q.query<IncidentRow>(`select ${columns} from incidents where id = $1`, [id])),
  /** Locks the row for a change (concurrent events, decisions and closure take turns). */
  lock: async (tx: Tx, id: string) => first(await tx.query<IncidentRow>(`select ${columns} from incidents where id = $1 for update`, [id])),

  /** Newest first (ids are UUIDv7); `status` null for all. */
  list: (q: Queries | TenantTx, f: { status: string | null; before: string | null; limit: number }) =>
    q.query<IncidentRow>(
      `select ${columns} from incidents where ($1::text is null or status = $1) and ($2::uuid is null or id < $2::uuid)
       order by id desc limit $3`, [f.status, f.before, f.limit]),

  /** The open incident a rule opened for this subject since `since`, if any. */
  openByRule: async (tx: Tx, rule: string, subject: string, since: Date) =>
    first(await tx.query<IncidentRow>(
      `select ${columns} from incidents where status = 'open' and rule = $1 and rule_subject = $2 and created_at >= $3
       order by created_at desc limit 1 for update`, [rule, subject, since])),

  /** Serialises rule hits on one subject (two nodes, one incident). */
  lockRule: (tx: Tx, rule: string, subject: string) => tx.query('select pg_advisory_xact_lock(hashtext($1)) as locked', [`incident:${rule}:${subject}`]),

  decide: async (tx: Tx, id: string, d: Decision, actor: { type: string; id: string }, at: Date) =>
    (await tx.query<IncidentRow>(
      `update incidents set notifiable = $2, decision_reason = $3, consequences = $4, measures = $5, authority_notified_at = $6,
         decided_at = $7, decided_by_type = $8, decided_by_id = $9 where id = $1 returning ${columns}`,
      [id, d.notifiable, d.reason, d.consequences, d.measures, d.authorityNotifiedAt, at, actor.type, actor.id]))[0],

  close: async (tx: Tx, id: string, lessons: string, actor: { type: string; id: string }, at: Date) =>
    (await tx.query<IncidentRow>(
      `update incidents set status = 'closed', closed_at = $2, lessons_learned = $3, closed_by_type = $4, closed_by_id = $5
       where id = $1 returning ${columns}`, [id, at, lessons, actor.type, actor.id]))[0],

  /** Raises the warning mark; false when another run raised it already. */
  warned: async (tx: Tx, id: string, hours: number) =>
    (await tx.query('update incidents set warned_hours = $2 where id = $1 and warned_hours < $2 returning id', [id, hours])).length > 0,

  /** Open incidents whose clock runs: no decision yet, or notifiable and the authority not yet notified. */
  clockRunning: (q: Queries) =>
    q.query<IncidentRow>(`select ${columns} from incidents
      where status = 'open' and (notifiable is null or (notifiable and authority_notified_at is null)) order by aware_at`),

  addEvent: async (tx: Tx, e: Omit<EventRow, 'seq'>) =>
    (await tx.query<EventRow>(
      `insert into incident_events (incident_id, seq, at, kind, actor_type, actor_id, note)
       values ($1, (select coalesce(max(seq), 0) + 1 from incident_events where incident_id = $1), $2, $3, $4, $5, $6) returning ${eventColumns}`,
      [e.incidentId, e.at, e.kind, e.actorType, e.actorId, e.note]))[0],
  events: (q: Queries, id: string) => q.query<EventRow>(`select ${eventColumns} from incident_events where incident_id = $1 order by seq`, [id]),

  /** Tenants with audit entries of the actor in the window (platform context: every tenant). */
  tenantsTouched: async (q: Queries, a: AffectedQuery) =>
    (await q.query<{ tenantId: string }>(
      `select distinct tenant_id as "tenantId" from audit_entries
       where tenant_id is not null and kind = 'data' and actor_id = $1 and created_at >= $2 and created_at < $3
         and action in (select jsonb_array_elements_text($4::text::jsonb))`,
      [a.actorId, a.from, a.to, JSON.stringify(a.actions)])).map((r) => r.tenantId),

  /** The records of the transaction's tenant the actor touched in the window, by collection and action (RLS: its own entries only). */
  recordsTouched: (tx: TenantTx, a: AffectedQuery) =>
    tx.query<{ collection: string | null; recordId: string; action: string }>(
      `select distinct e.collection, r.record_id as "recordId", e.action
       from audit_entries e join audit_record_refs r on r.entry_id = e.id and r.tenant_id = e.tenant_id
       where e.tenant_id = $1 and e.kind = 'data' and e.actor_id = $2 and e.created_at >= $3 and e.created_at < $4
         and e.action in (select jsonb_array_elements_text($5::text::jsonb))
       order by 1, 2`,
      [tx.tenantId, a.actorId, a.from, a.to, JSON.stringify(a.actions)]),

  upsertPart: (tx: Tx, p: TenantPartRow) =>
    tx.query(
      `insert into incident_tenants (incident_id, tenant_id, query, records_read, records_changed, records_total, record_ids, record_ids_truncated, computed_at)
       values ($1, $2, $3::text::jsonb, $4, $5, $6, $7::text::jsonb, $8, $9)
       on conflict (incident_id, tenant_id) do update set query = excluded.query, records_read = excluded.records_read,
         records_changed = excluded.records_changed, records_total = excluded.records_total, record_ids = excluded.record_ids,
         record_ids_truncated = excluded.record_ids_truncated, computed_at = excluded.computed_at`,
      [p.incidentId, p.tenantId, JSON.stringify(p.query), p.recordsRead, p.recordsChanged, p.recordsTotal, JSON.stringify(p.recordIds),
        p.recordIdsTruncated, p.computedAt]),
  parts: (q: Queries | TenantTx, id: string) => q.query<TenantPartRow>(`select ${partColumns} from incident_tenants where incident_id = $1 order by tenant_id`, [id]),
  tenantNames: async (q: Queries, ids: string[]) =>
    new Map((await q.query<{ id: string; name: string }>('select id, name from tenants where id in (select jsonb_array_elements_text($1::text::jsonb)::uuid)',
      [JSON.stringify(ids)])).map((r) => [r.id, r.name])),

  /** For the TOM evidence: open, overdue (past `overdueBefore` aware-at, undecided) and the last closure. */
  evidence: async (q: Queries, overdueBefore: Date) =>
    (await q.query<{ open: number; overdue: number; lastClosedAt: Date | null }>(
      `select count(*) filter (where status = 'open')::int as open,
         count(*) filter (where status = 'open' and notifiable is null and aware_at < $1)::int as overdue,
         max(closed_at) as "lastClosedAt" from incidents`, [overdueBefore]))[0],
};
