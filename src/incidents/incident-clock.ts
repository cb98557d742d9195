import type { Db } from '../db/db.ts';
import { systemActor } from '../access/permissions.ts';
import type { Egress } from '../transfer/egress.ts';
import { type IncidentRow, incidentsRepo as repo } from './incidents-repo.ts';
import { DEADLINE_HOURS, HOUR_MS, WARNING_HOURS, clockRuns } from './incident-view.ts';
import { incidentWrites } from './incident-writes.ts';

// The 72-hour clock of GDPR Art. 33(1), run by the `incident-clock` job on
// the job leader: for each open incident whose clock runs (no decision yet,
// or notifiable and the authority not yet notified) it gives the warnings at
// 24, 48 and 66 hours after aware-at, each once (the mark is raised in the
// same transaction as the timeline event): a timeline event, a metric and,
// when a URL is configured, a webhook through the egress module.

export const ALL_THRESHOLDS = [...WARNING_HOURS, DEADLINE_HOURS] as const;

export interface ClockDeps {
  db: Db; now: () => Date; egress: Pick<Egress, 'send'>;
  /** TRESOR_INCIDENT_ALERT_URL, else TRESOR_SECURITY_ALERT_URL; none: no webhook. */
  alertUrl?: string; alertTimeoutMs: number;
  onError: (msg: string, err: unknown) => void;
}

export interface ClockStats { open: number; past: Record<number, number>; warnings: Record<number, number> }

const actor = systemActor('incident-clock');

export function incidentClock({ db, now, egress, alertUrl, alertTimeoutMs, onError }: ClockDeps) {
  const stats: ClockStats = { open: 0, past: Object.fromEntries(ALL_THRESHOLDS.map((h) => [h, 0])), warnings: Object.fromEntries(WARNING_HOURS.map((h) => [h, 0])) };

  /** Gives the warnings `row` is due (every threshold passed since the last one given); returns the hours warned. */
  async function warn(row: IncidentRow, at: Date): Promise<number[]> {
    const hours = (at.getTime() - row.awareAt.getTime()) / HOUR_MS;
    const due = WARNING_HOURS.filter((h) => h <= hours && h > row.warnedHours);
    if (!due.length) return [];
    const given = await db.transaction(async (tx) => {
      if (!(await repo.warned(tx, row.id, due[due.length - 1]))) return [];
      for (const h of due) {
        await incidentWrites.event(tx, actor, row, { kind: 'clock_warning',
          note: `${h} hours since aware-at; the 72-hour deadline is ${new Date(row.awareAt.getTime() + DEADLINE_HOURS * HOUR_MS).toISOString()}` },
        at, 'incident.clock_warning', { hours: h });
      }
      return due;
    });
    for (const h of given) stats.warnings[h]++;
    return given;
  }

  async function notify(row: IncidentRow, hours: number, at: Date) {
    if (!alertUrl) return;
    const body = { kind: 'incident.clock_warning', incidentId: row.id, title: row.title, severity: row.severity, hours,
      awareAt: row.awareAt.toISOString(), deadline: new Date(row.awareAt.getTime() + DEADLINE_HOURS * HOUR_MS).toISOString(), at: at.toISOString() };
    try {
      await egress.send({ tenantId: null, purpose: 'incident_warning', url: alertUrl, timeoutMs: alertTimeoutMs, actor,
        headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    } catch (err) {
      onError('incident clock warning webhook failed', err);
    }
  }

  return {
    /** One pass over the open incidents (the job's run); returns the warnings given. */
    async tick(): Promise<{ incidentId: string; hours: number }[]> {
      const at = now();
      const running = await repo.clockRunning(db);
      const given: { incidentId: string; hours: number }[] = [];
      for (const row of running) {
        for (const h of await warn(row, at)) {
          given.push({ incidentId: row.id, hours: h });
          await notify(row, h, at);
        }
      }
      const [{ n }] = await db.query<{ n: number }>("select count(*)::int as n from incidents where status = 'open'");
      stats.open = n;
      for (const h of ALL_THRESHOLDS) stats.past[h] = running.filter((r) => clockRuns(r) && at.getTime() - r.awareAt.getTime() >= h * HOUR_MS).length;
      return given;
    },
    stats: (): ClockStats => stats,
  };
}

export type IncidentClock = ReturnType<typeof incidentClock>;
