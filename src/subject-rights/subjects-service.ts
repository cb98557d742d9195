import { v7 as uuidv7 } from 'uuid';
import type { Db, TenantTx } from '../db/db.ts';
import { RequestError, assertThat } from '../errors.ts';
import { type Action, type Actor, authorizeTenant } from '../access/permissions.ts';
import { canonicalJson } from '../audit/audit-leaf.ts';
import type { SigningKey } from '../crypto/signing.ts';
import { collectionsRepo, type CollectionRow } from '../collections/collections-repo.ts';
import type { KeysService } from '../keys/keys-service.ts';
import { recordsRepo, type RecordRow } from '../records/records-repo.ts';
import { decodeRecord } from '../records/record-codec.ts';
import { decodeCursor, encodeCursor } from '../http/cursor.ts';
import { subjectTerms, type TermGroup } from './subject-terms.ts';
import { type HoldRow, subjectsRepo } from './subjects-repo.ts';
import { openHoldSubject, sealHoldSubject } from './hold-subject.ts';
import { toBuffer } from '../db/db.ts';
import { type LedgerEntry, appendToLedgerFile, reapplyLedger, signEntry } from './erasure-ledger.ts';

/** At most this many records per data-subject request (find, export, erase). */
export const SUBJECT_MAX_RECORDS = 1000;

export interface SubjectsDeps {
  db: Db;
  keys: Pick<KeysService, 'ringFor'>;
  backupDir: string;
  ledgerKey: SigningKey;
  certificateKey: SigningKey;
  now?: () => Date;
}

type Where = Record<string, unknown>;
interface InTx { tx: TenantTx; actor: Actor }
interface Found { group: TermGroup; rows: RecordRow[] }

const fieldsOf = (where: Where) => Object.keys(where).sort();

const holdView = (h: HoldRow) => ({ id: h.id, reason: h.reason, fields: h.fields, createdBy: h.createdBy, createdAt: h.createdAt.toISOString(),
  releasedBy: h.releasedBy, releasedAt: h.releasedAt?.toISOString() ?? null });

export function subjectsServiceFactory({ db, keys, backupDir, ledgerKey, certificateKey, now = () => new Date() }: SubjectsDeps) {
  /** The subject's records in every collection that indexes all of `where`'s fields, at most SUBJECT_MAX_RECORDS. */
  async function locate(t: InTx, where: Where): Promise<Found[]> {
    const ring = await keys.ringFor(t.tx, t.tx.tenantId);
    const groups = subjectTerms(await collectionsRepo.list(t.tx), ring, where);
    const found: Found[] = [];
    let total = 0;
    for (const group of groups) {
      const rows = await recordsRepo.search(t.tx, group.collection.id, group.terms, null, SUBJECT_MAX_RECORDS + 1 - total);
      total += rows.length;
      if (total > SUBJECT_MAX_RECORDS) throw new RequestError('subject.too_many_records', `More than ${SUBJECT_MAX_RECORDS} records match this subject`);
      found.push({ group, rows });
    }
    return found;
  }

  // One audit entry per collection searched (ids and field names, never the values looked up).
  function audit(t: InTx, action: string, where: Where, found: Found[], detail?: Record<string, string | number>) {
    const fields = fieldsOf(where);
    if (!found.length) t.tx.audit({ action, actor: t.actor, recordIds: [], fields, ...(detail ? { detail } : {}) });
    for (const f of found) t.tx.audit({ action, actor: t.actor, collection: f.group.collection.name, recordIds: f.rows.map((r) => r.id), fields, ...(detail ? { detail } : {}) });
  }

  async function decoded(t: InTx, c: CollectionRow, rows: RecordRow[]) {
    const ring = await keys.ringFor(t.tx, t.tx.tenantId, rows.map((r) => r.keyVersion));
    const defs = new Map(c.fields.map((f) => [f.name, f]));
    return rows.map((r) => {
      const data = decodeRecord(ring, { tenantId: t.tx.tenantId, collectionId: c.id, recordId: r.id }, r);
      const classifications = Object.fromEntries(Object.keys(data).map((k) => [k, defs.get(k)?.classification ?? 'personal']));
      return { collection: c.name, id: r.id, version: r.version, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(), classifications, data };
    });
  }

  const inner = {
    async find(t: InTx, where: Where) {
      authorizeTenant(t.actor, t.tx.tenantId, 'subjects.read');
      const found = await locate(t, where);
      audit(t, 'subject.find', where, found);
      return { records: found.flatMap((f) => f.rows.map((r) => ({ collection: f.group.collection.name, id: r.id }))) };
    },

    /** Art. 15/20: every record of the subject, decrypted, with its collection, field classifications and times. */
    async export(t: InTx, where: Where) {
      authorizeTenant(t.actor, t.tx.tenantId, 'subjects.read');
      const found = await locate(t, where);
      const records = (await Promise.all(found.map((f) => decoded(t, f.group.collection, f.rows)))).flat();
      audit(t, 'subject.export', where, found);
      const collections = found.map((f) => ({ name: f.group.collection.name,
        fields: f.group.collection.fields.map((d) => ({ name: d.name, type: d.type, classification: d.classification })) }));
      return { format: 'tresor.subject-export.v1' as const, tenantId: t.tx.tenantId, exportedAt: now().toISOString(), collections, records };
    },

    /**
     * Art. 17: deletes every record of the subject unless a legal hold covers
     * one, records the subject's hashes in the erasure ledger (table and file)
     * and answers a signed certificate.
     */
    async erase(t: InTx, input: { where: Where; reason: string }) {
      authorizeTenant(t.actor, t.tx.tenantId, 'subjects.erase');
      const found = await locate(t, input.where);
      const ids = found.flatMap((f) => f.rows.map((r) => r.id));
      const held = await subjectsRepo.heldRecordIds(t.tx, ids);
      assertThat(!held.size, () => new RequestError('subject.legal_hold', `${held.size} of the subject's records are under an active legal hold`));
      const erased = await subjectsRepo.deleteRecords(t.tx, ids);
      const at = now();
      const entry: LedgerEntry = { v: 1, id: uuidv7(), tenantId: t.tx.tenantId, erasedAt: at.toISOString(),
        groups: found.map((f) => ({ collectionId: f.group.collection.id, terms: f.group.terms })), recordIds: ids };
      const signed = signEntry(ledgerKey, entry);
      await subjectsRepo.insertLedger(t.tx, { id: entry.id, erasedAt: at, ...signed });
      audit(t, 'subject.erase', input.where, found, { ledgerEntry: entry.id, erased });
      // Written before the commit: an erasure that then fails to commit is
      // still re-applied after a restore (it errs on the side of erasing).
      appendToLedgerFile(backupDir, signed);
      const statement = {
        type: 'tresor.erasure-certificate.v1' as const, id: entry.id, tenantId: t.tx.tenantId, erasedAt: entry.erasedAt, reason: input.reason,
        subject: { fields: fieldsOf(input.where) },
        collections: found.map((f) => ({ name: f.group.collection.name, id: f.group.collection.id, records: f.rows.map((r) => r.id) })),
        erased,
        method: 'records and their blind-index rows deleted from the live store; the subject\'s blind-index hashes and the record ids kept in the '
          + 'erasure ledger, re-applied to any restored backup before it serves a request',
        requestedBy: { type: t.actor.type, id: t.actor.id },
      };
      const bytes = Buffer.from(canonicalJson(statement), 'utf8');
      return { erased, certificate: { statement, signature: certificateKey.sign(bytes).toString('base64'), algorithm: 'Ed25519' as const,
        keyId: certificateKey.keyId, publicKey: certificateKey.publicKey.toString('base64') } };
    },

    async hold(t: InTx, input: { where: Where; reason: string }) {
      authorizeTenant(t.actor, t.tx.tenantId, 'legal_holds.manage');
      const ring = await keys.ringFor(t.tx, t.tx.tenantId);
      const groups = subjectTerms(await collectionsRepo.list(t.tx), ring, input.where);
      const id = uuidv7();
      const subjectSealed = sealHoldSubject(ring, { tenantId: t.tx.tenantId, holdId: id }, input.where);
      t.tx.audit({ action: 'legal_hold.create', actor: t.actor, target: { type: 'legal_hold', id }, fields: fieldsOf(input.where),
        detail: { collections: groups.length } });
      return holdView(await subjectsRepo.insertHold(t.tx, { id, reason: input.reason, fields: fieldsOf(input.where), createdBy: `${t.actor.type}:${t.actor.id}`,
        createdAt: now(), subjectSealed, groups: groups.map((g) => ({ collectionId: g.collection.id, terms: g.terms })) }));
    },

    /**
     * In the transaction that creates a collection: every active hold whose
     * fields the new collection indexes gets its terms there too, so the hold
     * covers records written to it later. Holds made before migration 0016
     * kept no lookup values and stay with the collections they were made on.
     */
    async extendHolds(tx: TenantTx, collection: CollectionRow) {
      const holds = await subjectsRepo.activeHoldSubjects(tx);
      if (!holds.length) return;
      const ring = await keys.ringFor(tx, tx.tenantId);
      for (const h of holds) {
        const where = openHoldSubject(ring, { tenantId: tx.tenantId, holdId: h.id }, toBuffer(h.sealed));
        const names = Object.keys(where);
        if (!names.every((n) => collection.fields.some((f) => f.name === n && f.searchable))) continue;
        let groups: TermGroup[];
        try {
          groups = subjectTerms([collection], ring, where);
        } catch (err) {
          // A value the new collection's field type does not accept: no record of it can match.
          if (err instanceof RequestError && err.code === 'subject.where_invalid') continue;
          throw err;
        }
        for (const g of groups) await subjectsRepo.insertHoldTerms(tx, h.id, collection.id, g.terms);
      }
    },

    async holds(t: InTx, page: { limit: number; cursor?: string }) {
      authorizeTenant(t.actor, t.tx.tenantId, 'legal_holds.read');
      const rows = await subjectsRepo.listHolds(t.tx, page.cursor ? decodeCursor(page.cursor) : null, page.limit + 1);
      const items = rows.slice(0, page.limit).map(holdView);
      return { items, nextCursor: rows.length > page.limit ? encodeCursor(items[items.length - 1].id) : null };
    },

    async release(t: InTx, holdId: string) {
      authorizeTenant(t.actor, t.tx.tenantId, 'legal_holds.manage');
      const row = await subjectsRepo.releaseHold(t.tx, holdId, `${t.actor.type}:${t.actor.id}`, now());
      assertThat(row, () => new RequestError('legal_hold.not_found'));
      t.tx.audit({ action: 'legal_hold.release', actor: t.actor, target: { type: 'legal_hold', id: holdId } });
      return holdView(row);
    },
  };

  function inTenant<T>(actor: Actor, tenantId: string, action: Action, fn: (t: InTx) => Promise<T>): Promise<T> {
    authorizeTenant(actor, tenantId, action);
    return db.withTenant(tenantId, (tx) => fn({ tx, actor }));
  }

  return {
    inner,
    find: (actor: Actor, tenantId: string, where: Where) => inTenant(actor, tenantId, 'subjects.read', (t) => inner.find(t, where)),
    export: (actor: Actor, tenantId: string, where: Where) => inTenant(actor, tenantId, 'subjects.read', (t) => inner.export(t, where)),
    erase: (actor: Actor, tenantId: string, input: { where: Where; reason: string }) => inTenant(actor, tenantId, 'subjects.erase', (t) => inner.erase(t, input)),
    hold: (actor: Actor, tenantId: string, input: { where: Where; reason: string }) => inTenant(actor, tenantId, 'legal_holds.manage', (t) => inner.hold(t, input)),
    holds: (actor: Actor, tenantId: string, page: { limit: number; cursor?: string }) => inTenant(actor, tenantId, 'legal_holds.read', (t) => inner.holds(t, page)),
    release: (actor: Actor, tenantId: string, holdId: string) => inTenant(actor, tenantId, 'legal_holds.manage', (t) => inner.release(t, holdId)),
    /** Applies every ledger entry of TRESOR_BACKUP_DIR that this store lacks (a restored store): before serving any request. */
    reapplyLedger: () => reapplyLedger(db, { backupDir, key: ledgerKey, now }),
  };
}

export type SubjectsService = ReturnType<typeof subjectsServiceFactory>;
