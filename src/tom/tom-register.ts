import type { Db } from '../db/db.ts';
import { systemActor } from '../access/permissions.ts';
import type { SecurityEventsService } from '../security-events/security-events-service.ts';
import { type CheckDeps, type Evidence, runChecks } from './tom-checks.ts';
import { type AttestationRow, type EntryRow, type EntryStatus, tomRepo } from './tom-repo.ts';
import { type CheckId, type Kind, type LinkId, type SectionId, type Text, TEMPLATE, measureByKey } from './tom-template.ts';

const DAY_MS = 86_400_000;

export interface Attestation { id: string; attestedBy: string; attestedAt: string; documentSha256: string | null; documentBytes: number | null; nextReviewAt: string; note: string | null }

/** One measure as the register and the annex show it. */
export interface EntryView {
  key: string; section: SectionId; kind: Kind; title: Text; description: Text; owner: string | null;
  reviewIntervalDays: number; lastReviewAt: string | null; reviewDueAt: string | null;
  status: EntryStatus; evidence: Evidence | null; attestation: Attestation | null; links: LinkId[];
}

export const publicAttestation = (a: AttestationRow): Attestation => ({
  id: a.id, attestedBy: a.attestedBy, attestedAt: a.attestedAt.toISOString(), documentSha256: a.documentSha256, documentBytes: a.documentBytes,
  nextReviewAt: a.nextReviewAt.toISOString(), note: a.note,
});

/**
 * A measure's status: its evidence when Tresor checks it, else its newest
 * attestation (none: unattested; past its next review: overdue). A review
 * past due turns a met measure overdue. Nothing unknown is ever met.
 */
export function statusOf(kindCheck: CheckId | undefined, row: EntryRow, evidence: Evidence | null, attestation: AttestationRow | undefined, now: Date): { status: EntryStatus; reviewDueAt: Date | null } {
  let status: EntryStatus;
  let due: Date | null = row.lastReviewAt ? new Date(row.lastReviewAt.getTime() + row.reviewIntervalDays * DAY_MS) : null;
  if (kindCheck) status = evidence?.status ?? 'pending';
  else if (!attestation) status = 'unattested';
  else {
    due = attestation.nextReviewAt;
    status = attestation.nextReviewAt.getTime() < now.getTime() ? 'overdue' : 'met';
  }
  if (status === 'met' && due && due.getTime() < now.getTime()) status = 'overdue';
  return { status, reviewDueAt: due };
}

export interface RegisterDeps { db: Db; now: () => Date; checks: CheckDeps; securityEvents: Pick<SecurityEventsService['inner'], 'recordPlatform'> }

export function tomRegister({ db, now, checks, securityEvents }: RegisterDeps) {
  const template = TEMPLATE.map((m) => ({ key: m.key, reviewIntervalDays: m.reviewDays }));

  /** The template's entries go into the deployment on first use (and new ones after an upgrade). */
  const ensure = () => db.transaction((tx) => tomRepo.seed(tx, template, now()));

  /** Keeps a changed status; a measure turning failing or overdue raises one platform security event. */
  async function record(views: EntryView[], before: Map<string, EntryStatus>) {
    const changed = views.filter((v) => before.get(v.key) !== v.status);
    const at = now();
    await db.transaction(async (tx) => {
      await tomRepo.checked(tx, at);
      for (const v of changed) {
        const before = await tomRepo.setStatus(tx, v.key, v.status, at);
        if ((v.status === 'failing' || v.status === 'overdue') && before !== v.status) {
          await securityEvents.recordPlatform(tx, { type: 'tom.measure_failing', actor: systemActor('tom-register'),
            detail: { measure: v.key, status: v.status, check: v.evidence?.check ?? null } });
        }
      }
    });
  }

  /** Every measure with its status, evidence checked now; for a tenant, the evidence of that tenant's data. */
  async function evaluate(opts: { tenantId?: string } = {}): Promise<EntryView[]> {
    await ensure();
    const [rows, attestations] = await Promise.all([tomRepo.entries(db), tomRepo.latestAttestations(db)]);
    const byKey = new Map(rows.map((r) => [r.key, r]));
    const latest = new Map(attestations.map((a) => [a.entryKey, a]));
    const evidence = await runChecks(checks, TEMPLATE.flatMap((m) => m.check ? [m.check] : []), opts.tenantId);
    const at = now();
    const views = TEMPLATE.filter((m) => byKey.has(m.key)).map((m): EntryView => {
      const row = byKey.get(m.key)!;
      const ev = m.check ? evidence.get(m.check) ?? null : null;
      const a = latest.get(m.key);
      const { status, reviewDueAt } = statusOf(m.check, row, ev, a, at);
      return { key: m.key, section: m.section, kind: m.kind, title: m.title,
        description: { de: row.descriptionDe ?? m.description.de, en: row.descriptionEn ?? m.description.en },
        owner: row.owner, reviewIntervalDays: row.reviewIntervalDays, lastReviewAt: row.lastReviewAt?.toISOString() ?? null,
        reviewDueAt: reviewDueAt?.toISOString() ?? null, status, evidence: ev, attestation: a ? publicAttestation(a) : null, links: m.links ?? [] };
    });
    if (!opts.tenantId) await record(views, new Map(rows.map((r) => [r.key, r.status])));
    return views;
  }

  return { ensure, evaluate, known: (key: string) => measureByKey.has(key) };
}

export type TomRegister = ReturnType<typeof tomRegister>;
