// `tresor tenant clone --pseudonymize`: a tenant's collections and records
// copied from this store into a staging or test deployment's store, every
// personal or special field replaced by a synthetic stand-in (synthetic.ts),
// encrypted under new keys of the target (its own root key, a new key ring).
import { v7 as uuidv7 } from 'uuid';
import type { Db, TenantTx } from '../db/db.ts';
import { enterTenant } from '../db/db.ts';
import type { Config } from '../config.ts';
import type { KeyProvider } from '../crypto/key-provider.ts';
import { systemActor } from '../access/permissions.ts';
import { createServices } from '../services.ts';
import { tenantsRepo } from '../tenants/tenants-repo.ts';
import { collectionsRepo, type CollectionRow } from '../collections/collections-repo.ts';
import { recordsRepo } from '../records/records-repo.ts';
import { decodeRecord, encodeRecord } from '../records/record-codec.ts';
import { declaredEnvironment } from './environment.ts';
import { newCloneSecret, syntheticFor } from './synthetic.ts';
import type { StartupCode } from '../errors.ts';

export class CloneError extends Error {
  constructor(readonly code: StartupCode, message: string) { super(message); }
}

export interface CloneStore { db: Db; keyProvider: KeyProvider; config: Config }
export interface CloneInput {
  tenantId: string; source: CloneStore; target: CloneStore; pseudonymize: boolean; batchSize: number;
  onStart?: (total: number) => void; onProgress?: (done: number) => void;
}

const actor = systemActor('tenant-clone');

/** Refusals first, before anything is written: the flag, the target's declared environment, a target that has the tenant. */
async function checkTarget(input: CloneInput) {
  if (!input.pseudonymize) {
    throw new CloneError('clone.not_pseudonymized', 'a clone carries production data into another deployment only pseudonymised: add --pseudonymize');
  }
  const environment = await declaredEnvironment(input.target.db);
  if (environment === null) {
    throw new CloneError('clone.target_undeclared', 'the target store declares no environment: run `TRESOR_ENVIRONMENT=test tresor migrate` (or start the target) against it first');
  }
  if (environment === 'production') throw new CloneError('clone.target_production', 'the target deployment is production: a clone goes only into a staging or test deployment');
  if (await tenantsRepo.find(input.target.db, input.tenantId)) {
    throw new CloneError('clone.target_not_empty', `the target already holds tenant ${input.tenantId}: clone into a store without it`);
  }
  return environment;
}

export async function cloneTenant(input: CloneInput) {
  const { tenantId, source, target } = input;
  const environment = await checkTarget(input);
  const tenant = await tenantsRepo.find(source.db, tenantId);
  if (!tenant) throw new CloneError('clone.tenant_not_found', `no tenant ${tenantId} in this store`);
  const from = createServices(source.config, { db: source.db, keyProvider: source.keyProvider });
  const into = createServices(target.config, { db: target.db, keyProvider: target.keyProvider });
  const { collections, total } = await source.db.withTenant(tenantId, async (tx) => ({
    collections: await collectionsRepo.list(tx),
    total: (await tx.query<{ n: number }>('select count(*)::int as n from records'))[0].n,
  }));
  input.onStart?.(total);

  // The tenant, a new key ring under the target's root key, and the same collection definitions.
  const ids = new Map<string, CollectionRow>();
  await target.db.transaction(async (ptx) => {
    await tenantsRepo.insert(ptx, { id: tenantId, name: tenant.name });
    const tx = await enterTenant(ptx, tenantId);
    await into.keys.createTenantKeys(tx, tenantId, actor);
    for (const c of collections) ids.set(c.id, await collectionsRepo.insert(tx, { tenantId, id: uuidv7(), name: c.name, fields: c.fields, purposes: c.purposes }));
    tx.audit({ action: 'tenant.clone_in', actor, target: { type: 'tenant', id: tenantId }, detail: { collections: collections.length, records: total } });
  });

  const secret = newCloneSecret();
  let done = 0;
  for (const c of collections) {
    let after: string | null = null;
    for (;;) {
      const page = await source.db.withTenant(tenantId, async (tx) => {
        const rows = await recordsRepo.list(tx, c.id, after, input.batchSize);
        const ring = await from.keys.ringFor(tx, tenantId, rows.map((r) => r.keyVersion));
        return rows.map((r) => ({ id: r.id, values: decodeRecord(ring, { tenantId, collectionId: c.id, recordId: r.id }, r) }));
      });
      if (!page.length) break;
      await target.db.withTenant(tenantId, (tx) => writePage(tx, into, ids.get(c.id)!, secret, page.map((p) => p.values)));
      done += page.length;
      input.onProgress?.(done);
      after = page[page.length - 1].id;
    }
  }
  secret.fill(0);
  // The source records that its tenant was copied out, pseudonymised, and where to.
  await source.db.withTenant(tenantId, async (tx) => {
    await tx.query('select 1');
    tx.audit({ action: 'tenant.clone', actor, target: { type: 'tenant', id: tenantId }, detail: { records: done, targetEnvironment: environment, pseudonymized: true } });
  });
  return { tenantId, collections: collections.length, records: done, targetEnvironment: environment };
}

type Services = ReturnType<typeof createServices>;

async function writePage(tx: TenantTx, into: Services, c: CollectionRow, secret: Buffer, page: Array<Record<string, unknown>>) {
  const ring = await into.keys.freshRing(tx, tx.tenantId);
  const records = page.map((values) => ({
    id: uuidv7(),
    values: Object.fromEntries(c.fields.filter((f) => Object.hasOwn(values, f.name)).map((f) =>
      [f.name, f.classification === 'none' ? values[f.name] : syntheticFor(secret, f, values[f.name])])),
  }));
  const rows = records.map((r) => ({ id: r.id, ...encodeRecord(ring, c.fields, { tenantId: tx.tenantId, collectionId: c.id, recordId: r.id }, r.values) }));
  await recordsRepo.insertMany(tx, { tenantId: tx.tenantId, collectionId: c.id, keyVersion: ring.activeVersion, rowsJson: JSON.stringify(rows) });
  await into.pseudonyms.inner.writtenMany(tx, actor, c, records.map((r) => ({ recordId: r.id, values: r.values })));
  tx.audit({ action: 'record.clone', actor, collection: c.name, recordIds: records.map((r) => r.id), fields: c.fields.map((f) => f.name) });
}
