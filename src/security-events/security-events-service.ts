import { v7 as uuidv7 } from 'uuid';
import type { Db, Queries, TenantTx, Tx } from '../db/db.ts';
import type { AuditEntry } from '../audit/audit-leaf.ts';
import { type Actor, authorizePlatform, authorizeTenant } from '../access/permissions.ts';
import { decodeCursor, encodeCursor } from '../http/cursor.ts';
import type { SecurityEventType } from './security-event-types.ts';
import { type SecurityEventRow, securityEventsRepo } from './security-events-repo.ts';

/** Where a request came from, as far as the server can tell; attached to the events it causes. */
export interface RequestMeta { ip?: string; userAgent?: string }

/** Ids, roles, codes, counts and times only: never a secret, never a personal field value. */
export type SecurityEventDetail = Record<string, string | number | boolean | null | readonly string[]>;

export interface SecurityEventInput extends RequestMeta {
  type: SecurityEventType;
  actor: Actor;
  detail?: SecurityEventDetail;
}

export interface SecurityEventQuery { types?: string[]; from?: string; to?: string; limit: number; cursor?: string }

export type PublicSecurityEvent = ReturnType<typeof publicEvent>;

/** Sees each recorded event (after its insert), e.g. to raise a webhook alert. */
export interface SecurityEventObserver { recorded(event: PublicSecurityEvent): void }

// A user agent is whatever the client sends: kept, but bounded.
const USER_AGENT_MAX = 256;

export const publicEvent = (r: SecurityEventRow) => ({
  id: r.id, tenantId: r.tenantId, type: r.type, createdAt: r.createdAt.toISOString(),
  actor: { type: r.actorType, id: r.actorId, role: r.actorRole },
  ip: r.ip, userAgent: r.userAgent, detail: r.detail,
});

export interface SecurityEventsDeps { db: Db; now?: () => Date; observer?: SecurityEventObserver }

export function securityEventsServiceFactory({ db, now = () => new Date(), observer }: SecurityEventsDeps) {
  function row(tenantId: string | null, input: SecurityEventInput): SecurityEventRow {
    return {
      id: uuidv7(), tenantId, type: input.type, createdAt: now(),
      actorType: input.actor.type, actorId: input.actor.id, actorRole: input.actor.role,
      ip: input.ip ?? null, userAgent: input.userAgent?.slice(0, USER_AGENT_MAX) ?? null, detail: input.detail ?? {},
    };
  }

  // Each event is also an entry of the tamper-evident audit log, in the same
  // transaction: primitives of its detail only (the leaf's detail is flat).
  const auditEntry = (r: SecurityEventRow): AuditEntry => ({
    action: `security_event.${r.type}`,
    actor: { type: r.actorType as AuditEntry['actor']['type'], id: r.actorId, role: r.actorRole },
    target: { type: 'security_event', id: r.id },
    detail: Object.fromEntries(Object.entries(r.detail).filter(([, v]) => v === null || ['string', 'number', 'boolean'].includes(typeof v))) as AuditEntry['detail'],
  });

  function page(rows: SecurityEventRow[], limit: number) {
    const items = rows.slice(0, limit).map(publicEvent);
    return { items, nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1].id) : null };
  }

  const filter = (q: SecurityEventQuery) => ({
    types: q.types?.length ? q.types : null, from: q.from ? new Date(q.from) : null, to: q.to ? new Date(q.to) : null,
    before: q.cursor ? decodeCursor(q.cursor) : null, limit: q.limit + 1,
  });

  const inner = {
    /** Records an event on the transaction's tenant; it commits (or not) with the transaction. */
    async record(tx: TenantTx, input: SecurityEventInput): Promise<PublicSecurityEvent> {
      const r = row(tx.tenantId, input);
      await securityEventsRepo.insert(tx, r);
      tx.audit(auditEntry(r));
      const event = publicEvent(r);
      observer?.recorded(event);
      return event;
    },

    /** An event of the platform itself (no tenant): an operator's or support's own doings. */
    async recordPlatform(tx: Tx, input: SecurityEventInput): Promise<PublicSecurityEvent> {
      const r = row(null, input);
      await securityEventsRepo.insertPlatform(tx, r);
      tx.audit({ ...auditEntry(r), tenantId: null });
      const event = publicEvent(r);
      observer?.recorded(event);
      return event;
    },

    async list(tx: TenantTx, actor: Actor, q: SecurityEventQuery) {
      authorizeTenant(actor, tx.tenantId, 'security_events.read');
      return page(await securityEventsRepo.list(tx, filter(q)), q.limit);
    },

    async listPlatform(tx: Queries, actor: Actor, q: SecurityEventQuery) {
      authorizePlatform(actor, 'platform_security_events.read');
      return page(await securityEventsRepo.listPlatform(tx, filter(q)), q.limit);
    },
  };

  return {
    ...inner,
    inner,
    list: (actor: Actor, tenantId: string, q: SecurityEventQuery) => {
      authorizeTenant(actor, tenantId, 'security_events.read');
      return db.withTenant(tenantId, (tx) => inner.list(tx, actor, q));
    },
    listPlatform: (actor: Actor, q: SecurityEventQuery) => inner.listPlatform(db, actor, q),
    /**
     * Records an event in a transaction of its own: on the actor's tenant, or
     * as a platform event for platform actors (used for refusals, where the
     * request's own transaction never starts).
     */
    recordAlone: (input: SecurityEventInput & { tenantId: string | null }) =>
      input.tenantId
        ? db.withTenant(input.tenantId, (tx) => inner.record(tx, input))
        : db.transaction((tx) => inner.recordPlatform(tx, input)),
  };
}

export type SecurityEventsService = ReturnType<typeof securityEventsServiceFactory>;
