import type { Db, Queries, TenantTx, Tx } from '../db/db.ts';
import { RequestError, assertThat } from '../errors.ts';
import { type Actor, authorizePlatform, authorizeTenant } from '../access/permissions.ts';
import { decodeCursor, encodeCursor } from '../http/cursor.ts';
import { type AffectedQuery, type Decision, type IncidentInput, type IncidentRow, incidentsRepo as repo } from './incidents-repo.ts';
import { checkTimes, incidentWrites, type NewEvent } from './incident-writes.ts';
import { eventView, incidentView, partView } from './incident-view.ts';
import { affectedRecords } from './incident-affected.ts';
import { type DraftLang, notificationDraft } from './incident-drafts.ts';
import { incidentExport } from './incident-export.ts';

// The incident register (GDPR Art. 33): operators open, record, decide and
// close incidents in platform transactions; every change is an audit entry
// and a timeline event in the same transaction. Tenant owners read the
// incidents that affect their tenant, with only their own tenant's part.

export interface IncidentsDeps {
  db: Db; now?: () => Date; listMax: number; recordIdsMax: number; dpoContact?: string;
}

const notFound = () => new RequestError('incident.not_found');
const actorRef = (a: Actor) => ({ type: a.type, id: a.id });

export function incidentsServiceFactory({ db, now = () => new Date(), listMax, recordIdsMax, dpoContact }: IncidentsDeps) {
  async function openForChange(tx: Tx, id: string) {
    const row = await repo.lock(tx, id);
    assertThat(row, notFound);
    assertThat(row.status === 'open', () => new RequestError('incident.closed'));
    return row;
  }

  async function detail(q: Queries, row: IncidentRow) {
    const [events, parts] = await Promise.all([repo.events(q, row.id), repo.parts(q, row.id)]);
    return { ...incidentView(row, now()), timeline: events.map(eventView), affectedTenants: parts.map(partView) };
  }

  async function found(id: string) {
    const row = await repo.find(db, id);
    assertThat(row, notFound);
    return row;
  }

  /** The incident as the tenant sees it: the register's fields, its own part, no timeline (it may name other tenants). */
  async function tenantView(tx: TenantTx, row: IncidentRow) {
    const [part] = await repo.parts(tx, row.id);
    return { ...incidentView(row, now()), affected: part ? partView(part) : null };
  }

  return {
    open(actor: Actor, input: IncidentInput) {
      authorizePlatform(actor, 'incidents.manage');
      const at = now();
      checkTimes(input.detectedAt, input.awareAt, at);
      return db.transaction(async (tx) => detail(tx, await incidentWrites.open(tx, actor, input, at)));
    },

    async list(actor: Actor, q: { status?: 'open' | 'closed'; limit: number; cursor?: string }) {
      authorizePlatform(actor, 'incidents.manage');
      const limit = Math.min(q.limit, listMax);
      const rows = await repo.list(db, { status: q.status ?? null, before: q.cursor ? decodeCursor(q.cursor) : null, limit: limit + 1 });
      const items = rows.slice(0, limit);
      return { items: items.map((r) => incidentView(r, now())), nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1].id) : null };
    },

    async get(actor: Actor, id: string) {
      authorizePlatform(actor, 'incidents.manage');
      return detail(db, await found(id));
    },

    addEvent(actor: Actor, id: string, e: NewEvent) {
      authorizePlatform(actor, 'incidents.manage');
      return db.transaction(async (tx) => eventView(await incidentWrites.event(tx, actor, await openForChange(tx, id), e, now())));
    },

    /** The notifiability decision (Art. 33(1)) with its reason; a later one replaces it, each stays in the timeline. */
    decide(actor: Actor, id: string, d: Decision) {
      authorizePlatform(actor, 'incidents.manage');
      const at = now();
      assertThat(!d.authorityNotifiedAt || d.authorityNotifiedAt.getTime() <= at.getTime(),
        () => new RequestError('incident.aware_in_future', 'authorityNotifiedAt must not lie ahead of the server\'s clock'));
      return db.transaction(async (tx) => {
        const row = await openForChange(tx, id);
        const decided = await repo.decide(tx, row.id, d, actorRef(actor), at);
        await incidentWrites.event(tx, actor, decided, { kind: 'decision', note: `${d.notifiable ? 'notifiable' : 'not notifiable'}: ${d.reason}` }, at,
          'incident.decide', { notifiable: d.notifiable, authorityNotified: d.authorityNotifiedAt !== null });
        return detail(tx, decided);
      });
    },

    close(actor: Actor, id: string, lessonsLearned: string) {
      authorizePlatform(actor, 'incidents.manage');
      return db.transaction(async (tx) => {
        const row = await openForChange(tx, id);
        assertThat(row.decidedAt !== null, () => new RequestError('incident.undecided'));
        const at = now();
        const closed = await repo.close(tx, row.id, lessonsLearned, actorRef(actor), at);
        await incidentWrites.event(tx, actor, closed, { kind: 'closed', note: lessonsLearned }, at, 'incident.close');
        return detail(tx, closed);
      });
    },

    /** Who is affected, from the audit trail: per tenant the records the actor read or changed in the window (ids and counts, never values). */
    affected(actor: Actor, id: string, q: AffectedQuery) {
      authorizePlatform(actor, 'incidents.manage');
      const at = now();
      assertThat(Date.parse(q.from) < Date.parse(q.to) && Date.parse(q.to) <= at.getTime(), () => new RequestError('incident.invalid_window'));
      return affectedRecords({ db, recordIdsMax, openForChange }, actor, id, q, at).then(async () => detail(db, await found(id)));
    },

    /** Art. 33(3) drafts, one per affected controller (tenant). */
    async drafts(actor: Actor, id: string, lang: DraftLang) {
      authorizePlatform(actor, 'incidents.manage');
      const row = await found(id);
      const parts = await repo.parts(db, id);
      const names = await repo.tenantNames(db, parts.map((p) => p.tenantId));
      return { items: parts.map((p) => notificationDraft(row, p, names.get(p.tenantId) ?? p.tenantId, lang, dpoContact, now())) };
    },

    /** The Art. 33(5) documentation: the register entry, its timeline, decision, affected tenants and closure. */
    async export(actor: Actor, id: string) {
      authorizePlatform(actor, 'incidents.manage');
      const d = await detail(db, await found(id));
      return incidentExport(d, now());
    },

    listForTenant(actor: Actor, tenantId: string) {
      authorizeTenant(actor, tenantId, 'incidents.read');
      return db.withTenant(tenantId, async (tx) => {
        const rows = await repo.list(tx, { status: null, before: null, limit: listMax });
        return { items: await Promise.all(rows.map((r) => tenantView(tx, r))) };
      });
    },

    getForTenant(actor: Actor, tenantId: string, id: string, lang: DraftLang) {
      authorizeTenant(actor, tenantId, 'incidents.read');
      return db.withTenant(tenantId, async (tx) => {
        const row = await repo.find(tx, id);
        assertThat(row, notFound);
        const view = await tenantView(tx, row);
        const [part] = await repo.parts(tx, id);
        const name = (await tx.query<{ name: string }>('select name from tenants where id = $1', [tenantId]))[0]?.name ?? tenantId;
        return { ...view, draft: part ? notificationDraft(row, part, name, lang, dpoContact, now()) : null };
      });
    },
  };
}

export type IncidentsService = ReturnType<typeof incidentsServiceFactory>;
