import type { Queries } from '../db/db.ts';
import { incidentsRepo } from './incidents-repo.ts';
import { DEADLINE_HOURS, HOUR_MS } from './incident-view.ts';

/**
 * The incident-management measure's live evidence (for the TOM register):
 * open incidents, those overdue (aware-at more than 72 hours ago and no
 * notifiability decision), and when an incident was last closed.
 */
export async function incidentEvidence(db: Queries, now: Date): Promise<{ open: number; overdue: number; lastClosedAt: string | null }> {
  const e = await incidentsRepo.evidence(db, new Date(now.getTime() - DEADLINE_HOURS * HOUR_MS));
  return { open: e.open, overdue: e.overdue, lastClosedAt: e.lastClosedAt ? new Date(e.lastClosedAt).toISOString() : null };
}
