import type { Db, TenantTx } from '../db/db.ts';
import { toBuffer } from '../db/db.ts';
import { RequestError, assertThat } from '../errors.ts';
import { type Actor, authorizeTenant, systemActor } from '../access/permissions.ts';
import { createKeyCache, generateDataKey } from '../crypto/keyring.ts';
import type { TenantKeks } from '../keys/tenant-keks.ts';
import { type PseudonymKeys, openMappedValue, pseudonymBytes, pseudonymFor, pseudonymKeysFrom, pseudonymText, sealMappedValue } from '../crypto/pseudonym.ts';
import type { FieldDef } from '../collections/collection-definition.ts';
import type { CollectionRow } from '../collections/collections-repo.ts';
import type { CollectionsService } from '../collections/collections-service.ts';
import { indexValueFor } from '../collections/field-types.ts';
import { type NewMapRow, type PseudonymKeyRow, pseudonymsRepo as repo } from './pseudonyms-repo.ts';

export interface PseudonymsDeps {
  db: Db; tenantKeks: TenantKeks; collections: Pick<CollectionsService, 'find'>;
  /** How long a rotated-out version's pseudonyms stay resolvable. */
  mappingPeriodMs: number;
  /** Live versions at most (the active one and those still in their mapping period). */
  maxLiveVersions: number;
  rekeyBatch: number;
  cache: { max: number; ttlMs: number };
  now: () => Date;
}

export interface ResolveInput { collection?: string; field: string; pseudonym: string; reason: string }

interface Live { active: PseudonymKeys; live: PseudonymKeys[] }

const present = (v: unknown) => v !== null && v !== undefined;
const purposeOf = (def: FieldDef) => def.pseudonymPurpose ?? def.name;
export const pseudonymFields = (c: Pick<CollectionRow, 'fields'>) => c.fields.filter((f) => f.pseudonymize);

// Pseudonyms of pseudonymize fields: answered with records (active key
// version), and a mapping pseudonym -> sealed value per record, field and live
// version, written with the record, for re-identification by permission.
// Keys and mappings are read and written as the pseudonym role only.
export function pseudonymsServiceFactory({ db, tenantKeks, collections, mappingPeriodMs, maxLiveVersions, rekeyBatch, cache: limits, now }: PseudonymsDeps) {
  const cache = createKeyCache<Live>(limits);

  const unwrap = (tenantId: string, row: Pick<PseudonymKeyRow, 'version' | 'wrapped' | 'wrapping'>) =>
    pseudonymKeysFrom(tenantKeks.unwrap(toBuffer(row.wrapped), row.wrapping, { tenantId, purpose: 'pseudonym', version: row.version }), row.version);

  async function addKey(tx: TenantTx, version: number, actor: Actor): Promise<boolean> {
    const { wrapped, wrapping } = tenantKeks.wrap(generateDataKey(), { tenantId: tx.tenantId, purpose: 'pseudonym', version });
    const made = await repo.insertKey(tx, { version, wrapped, wrapping, kekId: tenantKeks.keyId });
    if (made) tx.audit({ action: 'key.create', actor, target: { type: 'pseudonym_key', id: String(version) } });
    return made;
  }

  /** The live keys, made on first use (version 1); in the pseudonym role. Unwrapped keys come from the cache when it has them. */
  async function liveKeys(tx: TenantTx, lock: 'share' | 'update' | null, actor: Actor): Promise<Live> {
    let rows = await repo.liveKeys(tx, lock);
    if (!rows.length) {
      await addKey(tx, 1, actor);
      rows = await repo.liveKeys(tx, lock);
    }
    const cached = cache.get(tx.tenantId);
    const live = rows.map((r) => cached?.live.find((k) => k.version === r.version) ?? unwrap(tx.tenantId, r));
    const active = live[rows.findIndex((r) => r.status === 'active')];
    const result = { active, live };
    cache.set(tx.tenantId, result);
    return result;
  }

  const textOf = (def: FieldDef, value: unknown) => indexValueFor(def, value);
  const pseudonymOf = (tenantId: string, keys: PseudonymKeys, def: FieldDef, value: unknown) =>
    pseudonymFor(keys, { tenantId, purpose: purposeOf(def), value: textOf(def, value) });

  function mapRow(tenantId: string, collectionId: string, recordId: string, def: FieldDef, keys: PseudonymKeys, value: unknown): NewMapRow {
    const purpose = purposeOf(def);
    const pseudonym = pseudonymOf(tenantId, keys, def, value);
    const sealed = sealMappedValue(keys, JSON.stringify(value), { tenantId, purpose, pseudonym });
    return { recordId, collectionId, field: def.name, purpose, version: keys.version, pseudonym: pseudonym.toString('base64'), sealed: sealed.toString('base64') };
  }

  const inner = {
    /**
     * Before a record's final statement: mapping rows for each pseudonymize
     * field whose value is new or changed (under every live version, so a
     * pseudonym a node with a stale key cache answers still resolves).
     * The key rows are locked for share, so a rotation waits for this write.
     */
    async written(tx: TenantTx, actor: Actor, c: CollectionRow, recordId: string, values: Record<string, unknown>, before?: Record<string, unknown>) {
      await inner.writtenMany(tx, actor, c, [{ recordId, values, before }]);
    },

    /** As written, for many records in one go (imports). */
    async writtenMany(tx: TenantTx, actor: Actor, c: CollectionRow, items: Array<{ recordId: string; values: Record<string, unknown>; before?: Record<string, unknown> }>) {
      const defs = pseudonymFields(c);
      const work = items.map((it) => ({ ...it, changed: defs.filter((f) => !it.before || !sameValue(f, it.before[f.name], it.values[f.name])) }))
        .filter((it) => it.changed.length);
      if (!work.length) return;
      await repo.asPseudonymRole(tx, async () => {
        const { live } = await liveKeys(tx, 'share', actor);
        for (const it of work) if (it.before) await repo.forget(tx, it.recordId, it.changed.map((f) => f.name));
        const rows = work.flatMap((it) => it.changed.filter((f) => present(it.values[f.name]))
          .flatMap((f) => live.map((k) => mapRow(tx.tenantId, c.id, it.recordId, f, k, it.values[f.name]))));
        if (rows.length) await repo.insertRows(tx, rows);
      });
    },

    /** The active version's pseudonyms of each record's values (undefined for a collection without pseudonymize fields). */
    async of(tx: TenantTx, actor: Actor, c: CollectionRow, records: Array<Record<string, unknown>>): Promise<Array<Record<string, string> | undefined>> {
      const defs = pseudonymFields(c);
      if (!defs.length) return records.map(() => undefined);
      const { active } = cache.get(tx.tenantId) ?? await repo.asPseudonymRole(tx, () => liveKeys(tx, null, actor));
      return records.map((values) => Object.fromEntries(defs.filter((f) => present(values[f.name]))
        .map((f) => [f.name, pseudonymText(pseudonymOf(tx.tenantId, active, f, values[f.name]))])));
    },

    async resolve(tx: TenantTx, actor: Actor, input: ResolveInput) {
      authorizeTenant(actor, tx.tenantId, 'pseudonym.resolve');
      let purpose = input.field;
      let collection: CollectionRow | null = null;
      if (input.collection !== undefined) {
        collection = await collections.find(tx, tx.tenantId, input.collection);
        const def = pseudonymFields(collection).find((f) => f.name === input.field);
        assertThat(def, () => new RequestError('pseudonym.not_found', `Field '${input.field}' of collection '${input.collection}' has no pseudonyms`));
        purpose = purposeOf(def);
      }
      const pseudonym = pseudonymBytes(input.pseudonym);
      const found = await repo.asPseudonymRole(tx, async () => {
        const hit = await repo.find(tx, { purpose, pseudonym, collectionId: collection?.id ?? null, field: collection ? input.field : null });
        if (!hit) return null;
        const keys = (await liveKeys(tx, null, actor)).live.find((k) => k.version === hit.version)!;
        return { version: hit.version, json: openMappedValue(keys, toBuffer(hit.sealed), { tenantId: tx.tenantId, purpose, pseudonym }) };
      });
      assertThat(found, () => new RequestError('pseudonym.not_found'));
      // Who re-identified which pseudonym, why: never the value.
      tx.audit({ action: 'pseudonym.resolve', actor, ...(collection ? { collection: collection.name, fields: [input.field] } : {}),
        target: { type: 'pseudonym', id: input.pseudonym }, detail: { purpose, version: found.version, reason: input.reason } });
      return { value: JSON.parse(found.json) as unknown, purpose, version: found.version };
    },

    /**
     * Crypto-shredding at tenant closure: every mapping and every pseudonym key
     * version goes (wrapped keys nulled), so no pseudonym of the tenant can be
     * re-identified again, from this store or a backup once its keys are gone.
     */
    async destroy(tx: TenantTx, actor: Actor): Promise<{ mappings: number; versions: number }> {
      const out = await repo.asPseudonymRole(tx, async () => {
        const live = await repo.liveKeys(tx, 'update');
        let mappings = 0;
        for (const k of live) mappings += await repo.retire(tx, k.version);
        return { mappings, versions: live.length };
      });
      cache.delete(tx.tenantId);
      if (out.versions) tx.audit({ action: 'pseudonym_key.destroy', actor, target: { type: 'tenant', id: tx.tenantId }, detail: out });
      return out;
    },

    /** A new active version; the old one resolves for the mapping period, its mappings re-keyed under the new one now. */
    async rotate(tx: TenantTx, actor: Actor) {
      authorizeTenant(actor, tx.tenantId, 'keys.rotate');
      return repo.asPseudonymRole(tx, async () => {
        const { active, live } = await liveKeys(tx, 'update', actor);
        assertThat(live.length < maxLiveVersions, () => new RequestError('pseudonym.too_many_versions',
          `${live.length} pseudonym key versions are live; the oldest retires at the end of its mapping period`));
        const version = (await repo.maxVersion(tx)) + 1;
        const retireAfter = new Date(now().getTime() + mappingPeriodMs);
        await repo.setRetiring(tx, active.version, retireAfter);
        await addKey(tx, version, actor);
        const next = unwrap(tx.tenantId, (await repo.liveKeys(tx, null)).find((r) => r.version === version)!);
        const mappings = await rekey(tx, active, next);
        tx.audit({ action: 'pseudonym_key.rotate', actor, target: { type: 'pseudonym_key', id: String(version) },
          detail: { previous: active.version, mappings, retireAfter: retireAfter.toISOString() } });
        return { version, previous: active.version, retireAfter: retireAfter.toISOString(), mappings };
      });
    },
  };

  /** Every mapping of `from` again under `to`, a page at a time. */
  async function rekey(tx: TenantTx, from: PseudonymKeys, to: PseudonymKeys): Promise<number> {
    let after: { recordId: string; field: string } | null = null;
    let n = 0;
    for (;;) {
      const page = await repo.page(tx, from.version, after, rekeyBatch);
      if (!page.length) return n;
      const rows = page.map((m) => {
        const value = openMappedValue(from, toBuffer(m.sealed), { tenantId: tx.tenantId, purpose: m.purpose, pseudonym: toBuffer(m.pseudonym) });
        // The sealed JSON is the validated, normalised value: String() is indexValueFor's text for strings and numbers alike.
        const pseudonym = pseudonymFor(to, { tenantId: tx.tenantId, purpose: m.purpose, value: String(JSON.parse(value)) });
        const sealed = sealMappedValue(to, value, { tenantId: tx.tenantId, purpose: m.purpose, pseudonym });
        return { recordId: m.recordId, collectionId: m.collectionId, field: m.field, purpose: m.purpose, version: to.version,
          pseudonym: pseudonym.toString('base64'), sealed: sealed.toString('base64') };
      });
      await repo.insertRows(tx, rows);
      n += rows.length;
      after = page[page.length - 1];
    }
  }

  /** Retires the versions whose mapping period is over, tenant by tenant; returns how many. */
  async function retireDue(stopping: () => boolean = () => false): Promise<number> {
    // Closed tenants are frozen (their versions wait for reopening or the purge).
    const tenants = await db.query<{ id: string }>("select id::text as id from tenants where status = 'active' order by id");
    let retired = 0;
    for (const { id } of tenants) {
      if (stopping()) break;
      retired += await db.withTenant(id, (tx) => repo.asPseudonymRole(tx, async () => {
        const due = (await repo.liveKeys(tx, 'update')).filter((r) => r.status === 'retiring' && r.retireAfter && r.retireAfter <= now());
        for (const r of due) {
          const mappings = await repo.retire(tx, r.version);
          tx.audit({ action: 'pseudonym_key.retire', actor: systemActor('pseudonym-retirement'), target: { type: 'pseudonym_key', id: String(r.version) }, detail: { mappings } });
        }
        return due.length;
      }));
      cache.delete(id);
    }
    return retired;
  }

  return {
    inner,
    resolve: (actor: Actor, tenantId: string, input: ResolveInput) => {
      authorizeTenant(actor, tenantId, 'pseudonym.resolve');
      return db.withTenant(tenantId, (tx) => inner.resolve(tx, actor, input));
    },
    rotate: async (actor: Actor, tenantId: string) => {
      authorizeTenant(actor, tenantId, 'keys.rotate');
      try { return await db.withTenant(tenantId, (tx) => inner.rotate(tx, actor)); } finally { cache.delete(tenantId); }
    },
    retireDue,
  };
}

function sameValue(def: FieldDef, a: unknown, b: unknown): boolean {
  if (!present(a) || !present(b)) return present(a) === present(b);
  return indexValueFor(def, a) === indexValueFor(def, b);
}

export type PseudonymsService = ReturnType<typeof pseudonymsServiceFactory>;
