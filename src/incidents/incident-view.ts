import type { EventRow, IncidentRow, TenantPartRow } from './incidents-repo.ts';

// How incidents read in answers, exports and drafts: times as ISO strings,
// actors as type and id only.

export const HOUR_MS = 3_600_000;
/** GDPR Art. 33(1): notify the supervisory authority within 72 hours of becoming aware. */
export const DEADLINE_HOURS = 72;
/** The clock warns at these hours after aware-at. */
export const WARNING_HOURS = [24, 48, 66] as const;

/** Whether the 72-hour clock still runs: no decision yet, or notifiable and the authority not yet notified. */
export const clockRuns = (r: IncidentRow) => r.status === 'open' && (r.notifiable === null || (r.notifiable && !r.authorityNotifiedAt));

const iso = (d: Date | null) => d?.toISOString() ?? null;
const who = (type: string | null, id: string | null) => (type && id ? { type, id } : null);

export function incidentView(r: IncidentRow, now: Date) {
  return {
    id: r.id, title: r.title, category: r.category, severity: r.severity, status: r.status,
    detectedAt: r.detectedAt.toISOString(), awareAt: r.awareAt.toISOString(),
    affectedSystems: r.affectedSystems, dataCategories: r.dataCategories, description: r.description,
    rule: r.rule, openedBy: { type: r.openedByType, id: r.openedById }, createdAt: r.createdAt.toISOString(),
    clock: {
      deadline: new Date(r.awareAt.getTime() + DEADLINE_HOURS * HOUR_MS).toISOString(),
      hoursSinceAware: Math.max(0, Math.floor((now.getTime() - r.awareAt.getTime()) / HOUR_MS)),
      running: clockRuns(r),
      warnedHours: r.warnedHours,
    },
    decision: r.decidedAt === null ? null : {
      notifiable: r.notifiable!, reason: r.decisionReason!, consequences: r.consequences, measures: r.measures,
      authorityNotifiedAt: iso(r.authorityNotifiedAt), decidedAt: r.decidedAt.toISOString(), decidedBy: who(r.decidedByType, r.decidedById)!,
    },
    closure: r.closedAt === null ? null : {
      closedAt: r.closedAt.toISOString(), lessonsLearned: r.lessonsLearned!, closedBy: who(r.closedByType, r.closedById)!,
    },
  };
}

export const eventView = (e: EventRow) => ({ seq: e.seq, at: e.at.toISOString(), kind: e.kind, actor: { type: e.actorType, id: e.actorId }, note: e.note });

export const partView = (p: TenantPartRow) => ({
  tenantId: p.tenantId, query: p.query, recordsRead: p.recordsRead, recordsChanged: p.recordsChanged, recordsTotal: p.recordsTotal,
  recordIds: p.recordIds, recordIdsTruncated: p.recordIdsTruncated, computedAt: p.computedAt.toISOString(),
});

export type IncidentView = ReturnType<typeof incidentView>;
export type EventView = ReturnType<typeof eventView>;
export type PartView = ReturnType<typeof partView>;
