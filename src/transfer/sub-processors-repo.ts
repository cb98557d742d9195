import type { Queries, TenantTx, Tx } from '../db/db.ts';

export interface SubProcessorInput { name: string; service: string; country: string; dataCategories: string[]; dpaDate: string }
export interface SubProcessorRow extends SubProcessorInput { id: string; createdAt: Date; updatedAt: Date; removedAt: Date | null }
export type ChangeKind = 'added' | 'changed' | 'removed';
export interface ChangeRow { id: string; subProcessorId: string; kind: ChangeKind; snapshot: SubProcessorInput; announcedAt: Date; objectionDeadline: Date }
export interface OutboxRow { changeId: string; tenantId: string; attempts: number }
export interface ObjectionRow { tenantId: string; id: string; changeId: string; reason: string; objectedByType: string; objectedById: string; createdAt: Date }

const columns = `id, name, service, country, data_categories as "dataCategories", to_char(dpa_date, 'YYYY-MM-DD') as "dpaDate",
  created_at as "createdAt", updated_at as "updatedAt", removed_at as "removedAt"`;
const changeColumns = `id, sub_processor_id as "subProcessorId", kind, snapshot, announced_at as "announcedAt", objection_deadline as "objectionDeadline"`;
const objectionColumns = `tenant_id as "tenantId", id, change_id as "changeId", reason, objected_by_type as "objectedByType",
  objected_by_id as "objectedById", created_at as "createdAt"`;

// Platform tables (register, changes, outbox) in platform transactions; a
// tenant's objections and notification target under its tenant context.
export const subProcessorsRepo = {
  insert: async (tx: Tx, id: string, r: SubProcessorInput, at: Date) =>
    (await tx.query<SubProcessorRow>(
      `insert into sub_processors (id, name, service, country, data_categories, dpa_date, created_at, updated_at)
       values ($1, $2, $3, $4, $5::text::jsonb, $6::date, $7, $7) returning ${columns}`,
      [id, r.name, r.service, r.country, JSON.stringify(r.dataCategories), r.dpaDate, at]))[0],
  update: async (tx: Tx, id: string, r: SubProcessorInput, at: Date) =>
    (await tx.query<SubProcessorRow>(
      `update sub_processors set name = $2, service = $3, country = $4, data_categories = $5::text::jsonb, dpa_date = $6::date, updated_at = $7
       where id = $1 and removed_at is null returning ${columns}`,
      [id, r.name, r.service, r.country, JSON.stringify(r.dataCategories), r.dpaDate, at]))[0],
  remove: async (tx: Tx, id: string, at: Date) =>
    (await tx.query<SubProcessorRow>(`update sub_processors set removed_at = $2 where id = $1 and removed_at is null returning ${columns}`, [id, at]))[0],
  current: (q: Queries) => q.query<SubProcessorRow>(`select ${columns} from sub_processors where removed_at is null order by name, id`),

  insertChange: async (tx: Tx, c: ChangeRow) =>
    (await tx.query<ChangeRow>(
      `insert into sub_processor_changes (id, sub_processor_id, kind, snapshot, announced_at, objection_deadline)
       values ($1, $2, $3, $4::text::jsonb, $5, $6) returning ${changeColumns}`,
      [c.id, c.subProcessorId, c.kind, JSON.stringify(c.snapshot), c.announcedAt, c.objectionDeadline]))[0],
  /** One delivery per active tenant; returns how many were queued. */
  announce: async (tx: Tx, changeId: string, at: Date) =>
    (await tx.query<{ n: number }>(
      `with queued as (insert into sub_processor_outbox (change_id, tenant_id, next_attempt_at)
         select $1, id, $2 from tenants where status = 'active' returning 1) select count(*)::int as n from queued`, [changeId, at]))[0].n,
  changes: (q: Queries, limit: number) => q.query<ChangeRow>(`select ${changeColumns} from sub_processor_changes order by announced_at desc, id desc limit $1`, [limit]),
  findChange: async (q: Queries | TenantTx, id: string) =>
    (await q.query<ChangeRow>(`select ${changeColumns} from sub_processor_changes where id = $1`, [id]))[0],

  due: (q: Queries, at: Date, maxAttempts: number, limit: number) =>
    q.query<OutboxRow>(
      `select change_id as "changeId", tenant_id as "tenantId", attempts from sub_processor_outbox
       where delivered_at is null and next_attempt_at <= $1 and attempts < $2 order by next_attempt_at limit $3`, [at, maxAttempts, limit]),
  delivered: (tx: Tx, o: OutboxRow, at: Date) =>
    tx.query('update sub_processor_outbox set delivered_at = $3, attempts = attempts + 1, last_error = null where change_id = $1 and tenant_id = $2',
      [o.changeId, o.tenantId, at]),
  failed: (tx: Tx, o: OutboxRow, error: string, next: Date) =>
    tx.query('update sub_processor_outbox set attempts = attempts + 1, last_error = $3, next_attempt_at = $4 where change_id = $1 and tenant_id = $2',
      [o.changeId, o.tenantId, error, next]),
  deliveries: (q: Queries, changeId: string) =>
    q.query<{ tenantId: string; attempts: number; deliveredAt: Date | null; lastError: string | null }>(
      `select tenant_id as "tenantId", attempts, delivered_at as "deliveredAt", last_error as "lastError" from sub_processor_outbox
       where change_id = $1 order by tenant_id`, [changeId]),

  insertObjection: async (tx: TenantTx, o: ObjectionRow) =>
    (await tx.query<ObjectionRow>(
      `insert into sub_processor_objections (tenant_id, id, change_id, reason, objected_by_type, objected_by_id, created_at)
       values ($1, $2, $3, $4, $5, $6, $7) returning ${objectionColumns}`,
      [o.tenantId, o.id, o.changeId, o.reason, o.objectedByType, o.objectedById, o.createdAt]))[0],
  tenantObjections: (tx: TenantTx) => tx.query<ObjectionRow>(`select ${objectionColumns} from sub_processor_objections order by created_at desc, id desc`),
  /** Every tenant's objections: read in platform context only (policy platform_read). */
  allObjections: (q: Queries, limit: number) =>
    q.query<ObjectionRow>(`select ${objectionColumns} from sub_processor_objections order by created_at desc, id desc limit $1`, [limit]),

  target: async (tx: TenantTx) =>
    (await tx.query<{ url: string; updatedAt: Date }>('select url, updated_at as "updatedAt" from tenant_notification_targets'))[0],
  setTarget: (tx: TenantTx, url: string, at: Date) =>
    tx.query(`insert into tenant_notification_targets (tenant_id, url, updated_at) values ($1, $2, $3)
      on conflict (tenant_id) do update set url = excluded.url, updated_at = excluded.updated_at`, [tx.tenantId, url, at]),
};
