import type { Queries, Tx } from '../db/db.ts';

export type EntryStatus = 'met' | 'failing' | 'overdue' | 'unattested' | 'not_applicable' | 'pending';

export interface EntryRow {
  key: string; owner: string | null; reviewIntervalDays: number; descriptionDe: string | null; descriptionEn: string | null;
  lastReviewAt: Date | null; status: EntryStatus; checkedAt: Date | null; updatedAt: Date;
}
export interface AttestationRow {
  id: string; entryKey: string; attestedBy: string; attestedAt: Date; documentSha256: string | null; documentBytes: number | null;
  nextReviewAt: Date; note: string | null; recordedByType: string; recordedById: string; createdAt: Date;
}
export interface EntryPatch { owner?: string | null; reviewIntervalDays?: number; descriptionDe?: string | null; descriptionEn?: string | null; lastReviewAt?: Date }

const entryColumns = `key, owner, review_interval_days as "reviewIntervalDays", description_de as "descriptionDe", description_en as "descriptionEn",
  last_review_at as "lastReviewAt", status, checked_at as "checkedAt", updated_at as "updatedAt"`;
const attestationColumns = `id, entry_key as "entryKey", attested_by as "attestedBy", attested_at as "attestedAt", document_sha256 as "documentSha256",
  document_bytes::int as "documentBytes", next_review_at as "nextReviewAt", note, recorded_by_type as "recordedByType", recorded_by_id as "recordedById",
  created_at as "createdAt"`;

// Platform tables: the register describes the deployment, not a tenant.
export const tomRepo = {
  /** Adds the template's entries the deployment does not have yet; adapted entries stay as they are. */
  seed: (tx: Tx, rows: { key: string; reviewIntervalDays: number }[], at: Date) =>
    tx.query(`insert into tom_entries (key, review_interval_days, updated_at)
      select x.key, x.days, $2 from jsonb_to_recordset($1::text::jsonb) as x(key text, days int) on conflict (key) do nothing`,
    [JSON.stringify(rows.map((r) => ({ key: r.key, days: r.reviewIntervalDays }))), at]),
  entries: (q: Queries) => q.query<EntryRow>(`select ${entryColumns} from tom_entries order by key`),
  update: async (tx: Tx, key: string, p: EntryPatch, at: Date) => (await tx.query<EntryRow>(`update tom_entries set
      owner = case when $2::boolean then $3 else owner end,
      review_interval_days = coalesce($4, review_interval_days),
      description_de = case when $5::boolean then $6 else description_de end,
      description_en = case when $7::boolean then $8 else description_en end,
      last_review_at = coalesce($9, last_review_at),
      updated_at = $10
    where key = $1 returning ${entryColumns}`,
  [key, p.owner !== undefined, p.owner ?? null, p.reviewIntervalDays ?? null, p.descriptionDe !== undefined, p.descriptionDe ?? null,
    p.descriptionEn !== undefined, p.descriptionEn ?? null, p.lastReviewAt ?? null, at]))[0],
  /** When the register's statuses were last computed. */
  checked: (tx: Tx, at: Date) => tx.query('update tom_entries set checked_at = $1', [at]),
  /** Records the computed status; returns the one before, so a change can raise its event once. */
  setStatus: async (tx: Tx, key: string, status: EntryStatus, at: Date): Promise<EntryStatus | undefined> =>
    (await tx.query<{ before: EntryStatus }>(`update tom_entries e set status = $2, checked_at = $3 from (select key, status as before from tom_entries where key = $1 for update) b
      where e.key = b.key returning b.before`, [key, status, at]))[0]?.before,

  insertAttestation: async (tx: Tx, a: AttestationRow) => (await tx.query<AttestationRow>(
    `insert into tom_attestations (id, entry_key, attested_by, attested_at, document_sha256, document_bytes, next_review_at, note, recorded_by_type, recorded_by_id, created_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) returning ${attestationColumns}`,
    [a.id, a.entryKey, a.attestedBy, a.attestedAt, a.documentSha256, a.documentBytes, a.nextReviewAt, a.note, a.recordedByType, a.recordedById, a.createdAt]))[0],
  /** The newest attestation of each entry. */
  latestAttestations: (q: Queries) => q.query<AttestationRow>(`select distinct on (entry_key) ${attestationColumns} from tom_attestations
    order by entry_key, attested_at desc, id desc`),
};
