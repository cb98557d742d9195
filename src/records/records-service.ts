import { v7 as uuidv7 } from 'uuid';
import type { Db, TenantTx } from '../db/db.ts';
import { finalStatement, isUniqueViolation } from '../db/db.ts';
import { RequestError, assertThat } from '../errors.ts';
import { type Actor, authorizeTenant } from '../access/permissions.ts';
import type { CollectionsService } from '../collections/collections-service.ts';
import type { CollectionRow } from '../collections/collections-repo.ts';
import { validateRecordData, normaliseLookup, recordSizeProblem, type FieldProblem, type RecordLimits } from '../collections/field-types.ts';
import type { KeysService, KeyRing } from '../keys/keys-service.ts';
import { decodeCursor, encodeCursor } from '../http/cursor.ts';
import { type EncodedRecord, decodeRecord, encodeRecord, indexHash } from './record-codec.ts';
import { type RecordRow, recordsRepo } from './records-repo.ts';
import { fitPage } from './page-budget.ts';

export interface RecordsDeps {
  db: Db;
  collections: Pick<CollectionsService, 'find'>;
  keys: Pick<KeysService, 'ringFor'>;
  listDefaultLimit: number;
  listMaxLimit: number;
  limits: RecordLimits & { pageMaxBytes: number };
}

function validationFailed(problems: FieldProblem[]): RequestError {
  return new RequestError('record.validation_failed', problems.map((p) => p.detail).join('; '), { problems });
}

export function recordsServiceFactory({ db, collections, keys, listDefaultLimit, listMaxLimit, limits }: RecordsDeps) {
  function present(ring: KeyRing, tenantId: string, row: RecordRow, data?: Record<string, unknown>) {
    const at = { tenantId, collectionId: row.collectionId, recordId: row.id };
    return { id: row.id, version: row.version, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString(),
      data: data ?? decodeRecord(ring, at, row.keyVersion, row.enc, row.plain) };
  }

  // The stored form of what was just validated, without decrypting it back.
  const stored = (values: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(values).filter(([, v]) => v !== null && v !== undefined));

  /** Opens the tenant transaction, checks the role, loads collection and key ring. */
  function inCollection<T>(actor: Actor, tenantId: string, name: string, action: 'records.read' | 'records.write',
    fn: (tx: TenantTx, c: CollectionRow, ring: KeyRing) => Promise<T>): Promise<T> {
    authorizeTenant(actor, tenantId, action);
    return db.withTenant(tenantId, async (tx) => {
      const [c, ring] = await Promise.all([collections.find(tx, tenantId, name), keys.ringFor(tx, tenantId)]);
      return fn(tx, c, ring);
    });
  }

  // Names the unique fields whose value is taken, without echoing the value.
  async function uniqueConflict(tenantId: string, c: CollectionRow, rec: EncodedRecord, recordId: string | null): Promise<RequestError> {
    const taken = await db.withTenant(tenantId, (tx) => recordsRepo.takenUnique(tx, c.id, rec.index.filter((e) => e.u), recordId));
    const fields = [...new Set(taken.map((t) => t.field))];
    const problems = fields.map((field) => ({ field, code: 'record.unique_violation', detail: `field '${field}' must be unique` }));
    return new RequestError('record.unique_violation', problems.map((p) => p.detail).join('; ') || undefined, { problems });
  }

  async function catchUnique<T>(tenantId: string, recordId: string | null, c: () => CollectionRow, rec: () => EncodedRecord,
    fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (isUniqueViolation(err)) throw await uniqueConflict(tenantId, c(), rec(), recordId);
      throw err;
    }
  }

  return {
    async create(actor: Actor, tenantId: string, name: string, data: unknown) {
      let c!: CollectionRow, rec!: EncodedRecord;
      return catchUnique(tenantId, null, () => c, () => rec, () => inCollection(actor, tenantId, name, 'records.write', async (tx, coll, ring) => {
        c = coll;
        const valid = validateRecordData(coll.fields, data, 'create', limits);
        if (!valid.ok) throw validationFailed(valid.problems);
        const id = uuidv7();
        rec = encodeRecord(ring, coll.fields, { tenantId, collectionId: coll.id, recordId: id }, valid.values);
        const row = await recordsRepo.insert(finalStatement(tx), { tenantId, id, collectionId: coll.id, keyVersion: ring.activeVersion, rec });
        return present(ring, tenantId, row, stored(valid.values));
      }));
    },

    get: (actor: Actor, tenantId: string, name: string, id: string) =>
      inCollection(actor, tenantId, name, 'records.read', async (tx, c, ring) => {
        const row = await recordsRepo.find(finalStatement(tx), c.id, id);
        assertThat(row, () => new RequestError('record.not_found'));
        return present(ring, tenantId, row);
      }),

    async update(actor: Actor, tenantId: string, name: string, id: string, data: unknown, ifMatch?: number) {
      let c!: CollectionRow, rec!: EncodedRecord;
      return catchUnique(tenantId, id, () => c, () => rec, () => inCollection(actor, tenantId, name, 'records.write', async (tx, coll, ring) => {
        c = coll;
        const valid = validateRecordData(coll.fields, data, 'patch', limits);
        if (!valid.ok) throw validationFailed(valid.problems);
        const row = await recordsRepo.find(tx, coll.id, id, true);
        assertThat(row, () => new RequestError('record.not_found'));
        assertThat(ifMatch === undefined || ifMatch === row.version,
          () => new RequestError('record.version_mismatch', `The record is at version ${row.version}`));
        const at = { tenantId, collectionId: coll.id, recordId: id };
        const merged = { ...decodeRecord(ring, at, row.keyVersion, row.enc, row.plain), ...valid.values };
        const tooLarge = recordSizeProblem(merged, limits);
        if (tooLarge) throw validationFailed([tooLarge]);
        rec = encodeRecord(ring, coll.fields, at, merged);
        const updated = await recordsRepo.update(tx, { tenantId, id, collectionId: coll.id, keyVersion: ring.activeVersion, rec });
        return present(ring, tenantId, updated, stored(merged));
      }));
    },

    remove: (actor: Actor, tenantId: string, name: string, id: string) =>
      inCollection(actor, tenantId, name, 'records.write', async (tx, c) => {
        assertThat(await recordsRepo.remove(finalStatement(tx), c.id, id), () => new RequestError('record.not_found'));
      }),

    list: (actor: Actor, tenantId: string, name: string, page: { limit?: number; cursor?: string }) =>
      inCollection(actor, tenantId, name, 'records.read', async (tx, c, ring) => {
        const limit = Math.min(page.limit ?? listDefaultLimit, listMaxLimit);
        const rows = await recordsRepo.list(finalStatement(tx), c.id, page.cursor ? decodeCursor(page.cursor) : null, limit + 1);
        const fit = fitPage(rows, limit, limits.pageMaxBytes);
        const items = fit.rows.map((r) => present(ring, tenantId, r));
        return { items, nextCursor: fit.more ? encodeCursor(items[items.length - 1].id) : null };
      }),

    search: (actor: Actor, tenantId: string, name: string, where: Record<string, unknown>, limit?: number) =>
      inCollection(actor, tenantId, name, 'records.read', async (tx, c, ring) => {
        const problems: FieldProblem[] = [];
        const terms: Array<{ field: string; hash: string }> = [];
        for (const [field, raw] of Object.entries(where)) {
          const def = c.fields.find((f) => f.name === field);
          if (!def) { problems.push({ field, code: 'record.unknown_field', detail: `field '${field}' is not defined in this collection` }); continue; }
          const v = normaliseLookup(def, raw);
          if (v.ok) terms.push({ field, hash: indexHash(ring, c.id, def, v.value) });
          else problems.push(v.problem);
        }
        if (!terms.length && !problems.length) problems.push({ field: '', code: 'record.search_empty', detail: 'where must name at least one searchable field' });
        if (problems.length) throw new RequestError('record.search_invalid', problems.map((p) => p.detail).join('; '), { problems });
        const rows = await recordsRepo.search(finalStatement(tx), c.id, terms, Math.min(limit ?? listMaxLimit, listMaxLimit));
        return { items: rows.map((r) => present(ring, tenantId, r)) };
      }),
  };
}

export type RecordsService = ReturnType<typeof recordsServiceFactory>;
