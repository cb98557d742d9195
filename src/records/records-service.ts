import { v7 as uuidv7 } from 'uuid';
import type { Db, TenantTx } from '../db/db.ts';
import { finalStatement, isUniqueViolation } from '../db/db.ts';
import { RequestError, assertThat, withProblems } from '../errors.ts';
import { type Actor, authorizeTenant } from '../access/permissions.ts';
import type { CollectionsService } from '../collections/collections-service.ts';
import type { CollectionRow } from '../collections/collections-repo.ts';
import { validateRecordData, normaliseLookup, recordProblemCode, recordSizeProblem, type FieldProblem, type RecordLimits } from '../collections/field-types.ts';
import type { KeysService, KeyRing } from '../keys/keys-service.ts';
import { decodeCursor, encodeCursor } from '../http/cursor.ts';
import { type EncodedRecord, decodeRecord, encodeRecord, indexHash } from './record-codec.ts';
import { type RecordRow, type WrittenRow, recordsRepo } from './records-repo.ts';
import { fitPage } from './page-budget.ts';
import { maskRecord } from '../access/masking.ts';
import type { PseudonymsService } from '../pseudonyms/pseudonyms-service.ts';
import { type InstructionGate, type InstructionOperation, InstructionRefusal } from '../instructions/instruction-gate.ts';

export interface RecordsDeps {
  db: Db;
  collections: Pick<CollectionsService, 'find'>;
  keys: Pick<KeysService, 'ringFor'>;
  /** Mappings written with each write, pseudonyms answered with each record (collections with pseudonymize fields). */
  pseudonyms: Pick<PseudonymsService['inner'], 'written' | 'of'>;
  instructions: Pick<InstructionGate, 'check' | 'recordRefusal'>;
  listDefaultLimit: number;
  listMaxLimit: number;
  limits: RecordLimits & { pageMaxBytes: number };
}

/** `end`: the call's last statement ends the caller's transaction (its COMMIT leaves in the same round trip). */
export interface InTx { tx: TenantTx; actor: Actor; end?: boolean }
type Page = { limit?: number; cursor?: string };

function validationFailed(problems: FieldProblem[]): RequestError {
  return withProblems(recordProblemCode(problems), problems);
}

// The stored form of what was just validated, without decrypting it back.
const stored = (values: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(values).filter(([, v]) => v !== null && v !== undefined));

// `pseudonyms` only for a collection with pseudonymize fields: other records keep their shape.
const view = (row: WrittenRow, data: Record<string, unknown>, pseudonyms?: Record<string, string>) =>
  ({ id: row.id, version: row.version, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString(), data,
    ...(pseudonyms ? { pseudonyms } : {}) });

export function recordsServiceFactory({ db, collections, keys, pseudonyms, instructions, listDefaultLimit, listMaxLimit, limits }: RecordsDeps) {
  const last = (t: InTx) => (t.end ? finalStatement(t.tx) : t.tx);

  async function open(t: InTx, name: string, action: 'records.read' | 'records.write', operation: InstructionOperation) {
    authorizeTenant(t.actor, t.tx.tenantId, action);
    if (action === 'records.read') readCommitsAsync(t);
    const [c, ring] = await Promise.all([collections.find(t.tx, t.tx.tenantId, name), keys.ringFor(t.tx, t.tx.tenantId)]);
    await instructions.check(t.tx, t.actor, c, operation);
    return { c, ring };
  }

  // A read's only write is its audit entry. Committed synchronously, that
  // entry would make every read wait for a WAL flush (a read wrote nothing
  // before the audit log). Its commit is asynchronous instead: atomic as ever,
  // but a database crash within a few hundred ms can lose the entries of the
  // reads just before it (docs/audit.md). Sent with the transaction's first
  // statements and not awaited, it costs no round trip of its own (a failure
  // would fail the transaction's next statement). Changes keep synchronous
  // commit: their entry is as durable as the change.
  const readCommitsAsync = (t: InTx) => { t.tx.query("select set_config('synchronous_commit', 'off', true)").catch(() => {}); };

  /**
   * Decrypts rows read in the still-open transaction (a ring lacking a
   * version is reloaded in it) and records who read which records: reads are
   * never the final statement, because the entry names the ids they found.
   */
  async function present(t: InTx, c: CollectionRow, ring: KeyRing, rows: RecordRow[], action: 'record.read' | 'record.list' | 'record.search',
    fields?: string[]) {
    const needs = rows.map((r) => r.keyVersion);
    if (!needs.every((v) => ring.data.has(v))) ring = await keys.ringFor(t.tx, t.tx.tenantId, needs);
    const decoded = rows.map((r) => decodeRecord(ring, { tenantId: t.tx.tenantId, collectionId: r.collectionId, recordId: r.id }, r));
    // Pseudonyms of the values themselves, answered even where a mask hides the value: they reveal nothing.
    const ps = await pseudonyms.of(t.tx, t.actor, c, decoded);
    const views = rows.map((r, i) => view(r, maskRecord(t.actor, c.fields, decoded[i]), ps[i]));
    t.tx.audit({ action, actor: t.actor, collection: c.name, recordIds: views.map((v) => v.id), ...(fields ? { fields } : {}) });
    return views;
  }

  /** A list or search page: at most `limit` rows within the byte budget, decrypted, with the cursor of the last one. */
  async function pageOf(t: InTx, c: CollectionRow, ring: KeyRing, rows: RecordRow[], limit: number, action: 'record.list' | 'record.search',
    fields?: string[]) {
    const fit = fitPage(rows, limit, limits.pageMaxBytes);
    const items = await present(t, c, ring, fit.rows, action, fields);
    return { items, nextCursor: fit.more ? encodeCursor(items[items.length - 1].id) : null };
  }

  // Which fields a write names: field names only, never their values.
  const changed = (values: Record<string, unknown>, mode: 'create' | 'patch') =>
    Object.keys(values).filter((k) => mode === 'patch' || (values[k] !== null && values[k] !== undefined));

  // Names the unique fields whose value is taken, without echoing the value.
  async function uniqueConflict(tenantId: string, c: CollectionRow, rec: EncodedRecord, recordId: string | null): Promise<RequestError> {
    const taken = await db.withTenant(tenantId, (tx) => recordsRepo.takenUnique(tx, c.id, rec.index.filter((e) => e.u), recordId));
    const fields = [...new Set(taken.map((t) => t.field))];
    const problems = fields.map((field) => ({ field, code: 'record.unique_violation' as const, detail: `field '${field}' must be unique` }));
    return withProblems('record.unique_violation', problems);
  }

  // Inner forms: run in the caller's tenant transaction; a change and its
  // audit entry commit together. Unique violations surface as 23505.
  const inner = {
    async create(t: InTx, input: { collection: string; data: unknown }, seen?: (c: CollectionRow, rec: EncodedRecord) => void) {
      const { c, ring } = await open(t, input.collection, 'records.write', 'write');
      const valid = validateRecordData(c.fields, input.data, 'create', limits);
      if (!valid.ok) throw validationFailed(valid.problems);
      const id = uuidv7();
      const rec = encodeRecord(ring, c.fields, { tenantId: t.tx.tenantId, collectionId: c.id, recordId: id }, valid.values);
      seen?.(c, rec);
      await pseudonyms.written(t.tx, t.actor, c, id, valid.values);
      const [ps] = await pseudonyms.of(t.tx, t.actor, c, [valid.values]);
      t.tx.audit({ action: 'record.create', actor: t.actor, collection: c.name, recordIds: [id], fields: changed(valid.values, 'create') });
      const row = await recordsRepo.insert(last(t), { tenantId: t.tx.tenantId, id, collectionId: c.id, keyVersion: ring.activeVersion, rec });
      return view(row, maskRecord(t.actor, c.fields, stored(valid.values)), ps);
    },

    async get(t: InTx, input: { collection: string; id: string }) {
      const { c, ring } = await open(t, input.collection, 'records.read', 'read');
      const row = await recordsRepo.find(t.tx, c.id, input.id);
      assertThat(row, () => new RequestError('record.not_found'));
      return (await present(t, c, ring, [row], 'record.read'))[0];
    },

    async update(t: InTx, input: { collection: string; id: string; data: unknown; ifMatch?: number },
      seen?: (c: CollectionRow, rec: EncodedRecord) => void) {
      const { c, ring: cached } = await open(t, input.collection, 'records.write', 'write');
      const valid = validateRecordData(c.fields, input.data, 'patch', limits);
      if (!valid.ok) throw validationFailed(valid.problems);
      const row = await recordsRepo.find(t.tx, c.id, input.id, true);
      assertThat(row, () => new RequestError('record.not_found'));
      assertThat(input.ifMatch === undefined || input.ifMatch === row.version,
        () => new RequestError('record.version_mismatch', `The record is at version ${row.version}`));
      const ring = await keys.ringFor(t.tx, t.tx.tenantId, [row.keyVersion, cached.activeVersion]);
      const at = { tenantId: t.tx.tenantId, collectionId: c.id, recordId: input.id };
      const before = decodeRecord(ring, at, row);
      const merged = { ...before, ...valid.values };
      const tooLarge = recordSizeProblem(merged, limits);
      if (tooLarge) throw validationFailed([tooLarge]);
      const rec = encodeRecord(ring, c.fields, at, merged);
      seen?.(c, rec);
      await pseudonyms.written(t.tx, t.actor, c, input.id, merged, before);
      const [ps] = await pseudonyms.of(t.tx, t.actor, c, [merged]);
      t.tx.audit({ action: 'record.update', actor: t.actor, collection: c.name, recordIds: [input.id], fields: changed(valid.values, 'patch') });
      const updated = await recordsRepo.update(last(t), { tenantId: t.tx.tenantId, id: input.id, collectionId: c.id, keyVersion: ring.activeVersion, rec });
      return view(updated, maskRecord(t.actor, c.fields, stored(merged)), ps);
    },

    async remove(t: InTx, input: { collection: string; id: string }) {
      const { c } = await open(t, input.collection, 'records.write', 'write');
      // Not the final statement: only a delete that found its record is recorded.
      assertThat(await recordsRepo.remove(t.tx, c.id, input.id), () => new RequestError('record.not_found'));
      t.tx.audit({ action: 'record.delete', actor: t.actor, collection: c.name, recordIds: [input.id] });
    },

    async list(t: InTx, input: { collection: string } & Page) {
      const { c, ring } = await open(t, input.collection, 'records.read', 'read');
      const limit = Math.min(input.limit ?? listDefaultLimit, listMaxLimit);
      const rows = await recordsRepo.list(t.tx, c.id, input.cursor ? decodeCursor(input.cursor) : null, limit + 1);
      return pageOf(t, c, ring, rows, limit, 'record.list');
    },

    async search(t: InTx, input: { collection: string; where: Record<string, unknown> } & Page) {
      const { c, ring } = await open(t, input.collection, 'records.read', 'search');
      const problems: FieldProblem[] = [];
      const terms: Array<{ field: string; hash: string }> = [];
      for (const [field, raw] of Object.entries(input.where)) {
        const def = c.fields.find((f) => f.name === field);
        if (!def) { problems.push({ field, code: 'record.unknown_field', detail: `field '${field}' is not defined in this collection` }); continue; }
        const v = normaliseLookup(def, raw);
        if (v.ok) terms.push({ field, hash: indexHash(ring, c.id, def, v.value) });
        else problems.push(v.problem);
      }
      if (!terms.length && !problems.length) problems.push({ field: '', code: 'record.search_empty', detail: 'where must name at least one searchable field' });
      if (problems.length) throw withProblems('record.search_invalid', problems);
      const limit = Math.min(input.limit ?? listMaxLimit, listMaxLimit);
      const rows = await recordsRepo.search(t.tx, c.id, terms, input.cursor ? decodeCursor(input.cursor) : null, limit + 1);
      // The fields searched by, never the values looked up.
      return pageOf(t, c, ring, rows, limit, 'record.search', terms.map((x) => x.field));
    },
  };

  /** The public form: one tenant transaction; a write's last statement commits it (with its audit entry). */
  async function inTenant<T>(actor: Actor, tenantId: string, action: 'records.read' | 'records.write', fn: (t: InTx) => Promise<T>): Promise<T> {
    authorizeTenant(actor, tenantId, action);
    try {
      return await db.withTenant(tenantId, (tx) => fn({ tx, actor, end: true }));
    } catch (err) {
      // Recorded once the refused transaction is over (it rolled back).
      if (err instanceof InstructionRefusal) await instructions.recordRefusal(actor, tenantId, err);
      throw err;
    }
  }

  /** A write whose unique violation is answered with the fields taken (read in a second transaction). */
  async function writing<T>(actor: Actor, tenantId: string, recordId: string | null,
    fn: (t: InTx, seen: (c: CollectionRow, rec: EncodedRecord) => void) => Promise<T>): Promise<T> {
    let c: CollectionRow | undefined, rec: EncodedRecord | undefined;
    try {
      return await inTenant(actor, tenantId, 'records.write', (t) => fn(t, (cc, r) => { c = cc; rec = r; }));
    } catch (err) {
      if (isUniqueViolation(err) && c && rec) throw await uniqueConflict(tenantId, c, rec, recordId);
      throw err;
    }
  }

  return {
    inner,
    create: (actor: Actor, tenantId: string, name: string, data: unknown) =>
      writing(actor, tenantId, null, (t, seen) => inner.create(t, { collection: name, data }, seen)),
    get: (actor: Actor, tenantId: string, name: string, id: string) =>
      inTenant(actor, tenantId, 'records.read', (t) => inner.get(t, { collection: name, id })),
    update: (actor: Actor, tenantId: string, name: string, id: string, data: unknown, ifMatch?: number) =>
      writing(actor, tenantId, id, (t, seen) => inner.update(t, { collection: name, id, data, ifMatch }, seen)),
    remove: (actor: Actor, tenantId: string, name: string, id: string) =>
      inTenant(actor, tenantId, 'records.write', (t) => inner.remove(t, { collection: name, id })),
    list: (actor: Actor, tenantId: string, name: string, page: Page) =>
      inTenant(actor, tenantId, 'records.read', (t) => inner.list(t, { collection: name, ...page })),
    search: (actor: Actor, tenantId: string, name: string, where: Record<string, unknown>, page: Page = {}) =>
      inTenant(actor, tenantId, 'records.read', (t) => inner.search(t, { collection: name, where, ...page })),
  };
}

export type RecordsService = ReturnType<typeof recordsServiceFactory>;
