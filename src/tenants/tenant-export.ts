import type { Db } from '../db/db.ts';
import { RequestError, assertThat } from '../errors.ts';
import { type Actor, authorizeTenant } from '../access/permissions.ts';
import { collectionsRepo, type CollectionRow } from '../collections/collections-repo.ts';
import type { KeysService } from '../keys/keys-service.ts';
import { decodeRecord } from '../records/record-codec.ts';
import { recordsRepo } from '../records/records-repo.ts';
import { tenantsRepo } from './tenants-repo.ts';

// The full tenant export (portability, end of contract): every collection's
// records as NDJSON. An `export` line first (tenant, counts at the start, for
// a progress bar), then one `collection` line per collection (its fields with type
// and classification), then its `record` lines, then one `end` line with the
// counts: a stream without `end` was cut off. Records are read a page at a
// time by id (keyset), each page in its own short transaction, and the next
// page is read only when the client has taken the last one: memory stays at
// one page whatever the tenant's size. Not a snapshot: records written during
// the export may or may not be in it.

export interface ExportDeps { db: Db; keys: Pick<KeysService, 'ringFor'>; pageSize: number }

export type ExportLine =
  | { type: 'export'; tenantId: string; startedAt: string; collections: number; records: number }
  | { type: 'collection'; name: string; fields: Array<{ name: string; type: string; classification: string }> }
  | { type: 'record'; collection: string; id: string; version: number; createdAt: string; updatedAt: string; data: Record<string, unknown> }
  | { type: 'end'; collections: number; records: number };

export function tenantExportFactory({ db, keys, pageSize }: ExportDeps) {
  async function* pages(tenantId: string, c: CollectionRow, counter: { records: number }): AsyncGenerator<string> {
    let after: string | null = null;
    for (;;) {
      const lines: string[] = await db.withTenant(tenantId, async (tx) => {
        const rows = await recordsRepo.list(tx, c.id, after, pageSize);
        if (!rows.length) return [];
        const ring = await keys.ringFor(tx, tenantId, [...new Set(rows.map((r) => r.keyVersion))]);
        after = rows[rows.length - 1].id;
        return rows.map((r) => JSON.stringify({
          type: 'record', collection: c.name, id: r.id, version: r.version, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(),
          data: decodeRecord(ring, { tenantId, collectionId: c.id, recordId: r.id }, r),
        } satisfies ExportLine) + '\n');
      });
      if (!lines.length) return;
      counter.records += lines.length;
      // One chunk per page: fewer, larger writes.
      yield lines.join('');
      if (lines.length < pageSize) return;
    }
  }

  return {
    /**
     * Checks access and that the tenant exists (problems arrive before any
     * byte of the stream), writes the start entry, and returns the stream. The
     * end entry (collections, records, complete or not) is written when the
     * stream ends, is cut off or fails: counts only, never values.
     */
    async open(actor: Actor, tenantId: string): Promise<AsyncGenerator<string>> {
      authorizeTenant(actor, tenantId, 'tenant.export');
      let total = 0;
      const collections = await db.withTenant(tenantId, async (tx) => {
        assertThat(await tenantsRepo.find(tx, tenantId), () => new RequestError('tenant.not_found'));
        const list = await collectionsRepo.list(tx);
        total = await recordsRepo.count(tx);
        tx.audit({ action: 'tenant.export', actor, target: { type: 'tenant', id: tenantId }, detail: { collections: list.length, records: total } });
        return list;
      });
      const head: ExportLine = { type: 'export', tenantId, startedAt: new Date().toISOString(), collections: collections.length, records: total };
      const counter = { records: 0 };
      async function* stream(): AsyncGenerator<string> {
        let complete = false;
        try {
          yield JSON.stringify(head) + '\n';
          for (const c of collections) {
            const fields = c.fields.map((f) => ({ name: f.name, type: f.type, classification: f.classification }));
            yield JSON.stringify({ type: 'collection', name: c.name, fields } satisfies ExportLine) + '\n';
            yield* pages(tenantId, c, counter);
          }
          yield JSON.stringify({ type: 'end', collections: collections.length, records: counter.records } satisfies ExportLine) + '\n';
          complete = true;
        } finally {
          await db.withTenant(tenantId, async (tx) => {
            tx.audit({ action: 'tenant.export.end', actor, target: { type: 'tenant', id: tenantId },
              detail: { collections: collections.length, records: counter.records, complete } });
          });
        }
      }
      return stream();
    },
  };
}

export type TenantExport = ReturnType<typeof tenantExportFactory>;
