import type { Db } from '../db/db.ts';
import { RequestError, assertThat } from '../errors.ts';
import { type Actor, authorizePlatform, authorizeTenant } from '../access/permissions.ts';
import type { CollectionsService } from '../collections/collections-service.ts';
import { type AuditFilter, type AuditRow, auditRepo } from './audit-repo.ts';
import type { Static } from 'typebox';
import type { AuditEntryBody } from './audit-schemas.ts';

/** A leaf as the API shows it (the JSON the leaf bytes hold). */
type AuditEntryView = Static<typeof AuditEntryBody>;

export interface AuditQueryDeps { db: Db; collections: Pick<CollectionsService, 'find'>; defaultLimit: number; maxLimit: number }

export interface AuditQueryInput { from?: string; to?: string; actor?: string; action?: string; recordId?: string; tenantId?: string; cursor?: string; limit?: number }

// Cursors are opaque: base64url of the last entry id seen.
const encodeAuditCursor = (id: string) => Buffer.from(`audit:${id}`, 'utf8').toString('base64url');
function decodeAuditCursor(cursor: string): string {
  const m = /^audit:(\d{1,19})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  assertThat(m, () => new RequestError('request.invalid_cursor'));
  return m[1];
}

/** What the API shows of an entry: its leaf parsed (null once retention redacted it), and the hash the Merkle tree holds. */
export function auditItem(row: AuditRow) {
  return {
    id: row.id,
    createdAt: row.createdAt.toISOString(),
    leafHash: Buffer.from(row.leafHash).toString('base64'),
    ...(row.seq !== undefined ? { seq: row.seq === null ? null : Number(row.seq) } : {}),
    entry: row.leaf ? JSON.parse(Buffer.from(row.leaf).toString('utf8')) as AuditEntryView : null,
  };
}

export function auditQueryServiceFactory({ db, collections, defaultLimit, maxLimit }: AuditQueryDeps) {
  function filterOf(input: AuditQueryInput, order: AuditFilter['order']): AuditFilter {
    const from = input.from ? new Date(input.from) : undefined;
    const to = input.to ? new Date(input.to) : undefined;
    assertThat(!from || !to || from < to, () => new RequestError('audit.invalid_range'));
    return { from, to, actor: input.actor, action: input.action, recordId: input.recordId, tenantId: input.tenantId, order,
      after: input.cursor ? decodeAuditCursor(input.cursor) : undefined, limit: Math.min(input.limit ?? defaultLimit, maxLimit) };
  }

  const page = (rows: AuditRow[], limit: number) => {
    const items = rows.slice(0, limit).map(auditItem);
    return { items, nextCursor: rows.length > limit ? encodeAuditCursor(items[items.length - 1].id) : null };
  };

  // Reading the log is itself recorded: who looked, with which filter (ids only).
  async function tenantPage(actor: Actor, tenantId: string, f: AuditFilter, collection?: string) {
    authorizeTenant(actor, tenantId, 'audit.read');
    return db.withTenant(tenantId, async (tx) => {
      if (collection !== undefined) await collections.find(tx, tenantId, collection);
      const rows = await auditRepo.tenantEntries(tx, { ...f, limit: f.limit + 1 });
      // The record looked up goes in detail, not recordIds: reading a history
      // is not an access to the record itself.
      tx.audit({ action: 'audit.read', actor, ...(collection ? { collection } : {}), ...(f.recordId ? { detail: { recordId: f.recordId } } : {}) });
      return page(rows, f.limit);
    });
  }

  return {
    /** A tenant's entries, newest first. */
    tenantLog: (actor: Actor, tenantId: string, input: AuditQueryInput) => tenantPage(actor, tenantId, filterOf({ ...input, tenantId: undefined }, 'newest')),

    /** Who read or changed one record, newest first. */
    recordHistory: (actor: Actor, tenantId: string, collection: string, recordId: string, input: Pick<AuditQueryInput, 'cursor' | 'limit'>) =>
      tenantPage(actor, tenantId, filterOf({ ...input, recordId }, 'newest'), collection),

    /** Every entry (all tenants and the platform's own), oldest first: the SIEM export. */
    async export(actor: Actor, input: AuditQueryInput) {
      authorizePlatform(actor, 'audit.export');
      const f = filterOf(input, 'oldest');
      return db.transaction(async (tx) => {
        const rows = await auditRepo.platformEntries(tx, { ...f, limit: f.limit + 1 });
        tx.audit({ action: 'audit.export', actor, tenantId: null, detail: { entries: Math.min(rows.length, f.limit) } });
        return page(rows, f.limit);
      });
    },
  };
}

export type AuditQueryService = ReturnType<typeof auditQueryServiceFactory>;
