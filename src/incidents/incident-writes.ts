import { v7 as uuidv7 } from 'uuid';
import type { Tx } from '../db/db.ts';
import { RequestError, assertThat } from '../errors.ts';
import type { Actor } from '../access/permissions.ts';
import { type IncidentInput, type IncidentRow, incidentsRepo as repo } from './incidents-repo.ts';

export interface NewEvent { kind: string; note: string }

const actorRef = (a: Actor) => ({ type: a.type, id: a.id });

/** The checks every opening passes, manual or automatic: Art. 33's clock cannot start in the future or before detection. */
export function checkTimes(detectedAt: Date, awareAt: Date, now: Date) {
  assertThat(awareAt.getTime() <= now.getTime() && detectedAt.getTime() <= now.getTime(),
    () => new RequestError('incident.aware_in_future', 'detectedAt and awareAt must not lie ahead of the server\'s clock'));
  assertThat(awareAt.getTime() >= detectedAt.getTime(), () => new RequestError('incident.aware_before_detected'));
}

/** The changes every path shares (API, rules, clock): each writes its timeline event and audit entry in `tx`. */
export const incidentWrites = {
  async open(tx: Tx, actor: Actor, input: IncidentInput, at: Date, rule: { rule: string; subject: string } | null = null, note = 'incident opened') {
    const row = await repo.insert(tx, { id: uuidv7(), input, rule: rule?.rule ?? null, ruleSubject: rule?.subject ?? null, actor: actorRef(actor), at });
    await incidentWrites.event(tx, actor, row, { kind: 'opened', note }, at, 'incident.open',
      { category: row.category, severity: row.severity, rule: row.rule });
    return row;
  },
  async event(tx: Tx, actor: Actor, row: IncidentRow, e: NewEvent, at: Date, action = 'incident.event', detail: Record<string, string | number | boolean | null> = {}) {
    const ev = await repo.addEvent(tx, { incidentId: row.id, at, kind: e.kind, actorType: actor.type, actorId: actor.id, note: e.note });
    // The note is the operator's words: kept in the timeline, not in the audit log.
    tx.audit({ action, actor, tenantId: null, target: { type: 'incident', id: row.id }, detail: { kind: e.kind, seq: ev.seq, ...detail } });
    return ev;
  },
};

