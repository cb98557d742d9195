import type { Db, Tx } from '../db/db.ts';
import { RequestError, assertThat } from '../errors.ts';
import { type Actor, authorizeTenant } from '../access/permissions.ts';
import { addMonths } from '../clock.ts';
import { tenantsRepo } from './tenants-repo.ts';
import { publicTenant } from './tenants-service.ts';
import { certificatesRepo, publicCertificate } from './deletion-certificates.ts';
import type { TenantSecretStore } from '../crypto/tenant-secrets.ts';

export interface ClosureDeps {
  db: Db; now: () => Date; /** TRESOR_CLOSED_TENANT_RETENTION_MONTHS */ months: number;
  /** The tenant secrets outside the database: a restored copy of a purged tenant has the row but no secret. */
  secrets: Pick<TenantSecretStore, 'read'>;
}

// Closing ends a tenant's contract: the tenant turns read-only at once (the
// tenant_writes_frozen trigger refuses every change to its collections,
// records, retention policies and keys), stays readable and exportable, and
// may be reopened until purgeAfter; then the purge destroys its keys.
export function closureServiceFactory({ db, now, months, secrets }: ClosureDeps) {
  const inner = {
    async close(tx: Tx, actor: Actor, input: { tenantId: string }) {
      authorizeTenant(actor, input.tenantId, 'tenants.close');
      const row = await tenantsRepo.lock(tx, input.tenantId);
      assertThat(row, () => new RequestError('tenant.not_found'));
      assertThat(row.status === 'active', () => new RequestError('tenant.already_closed', `The tenant is ${row.status} already`));
      const closedAt = now();
      const closed = await tenantsRepo.close(tx, row.id, closedAt, addMonths(closedAt, months));
      tx.audit({ action: 'tenant.close', actor, tenantId: row.id, target: { type: 'tenant', id: row.id },
        detail: { purgeAfter: closed.purgeAfter!.toISOString(), retentionMonths: months } });
      return publicTenant(closed);
    },

    async reopen(tx: Tx, actor: Actor, input: { tenantId: string }) {
      authorizeTenant(actor, input.tenantId, 'tenants.close');
      const row = await tenantsRepo.lock(tx, input.tenantId);
      assertThat(row, () => new RequestError('tenant.not_found'));
      assertThat(row.status !== 'purged' && !row.keysDestroyedAt && secrets.read(row.id).state !== 'destroyed', () => new RequestError('tenant.keys_destroyed'));
      assertThat(row.status === 'closed', () => new RequestError('tenant.not_closed', 'The tenant is active'));
      const reopened = await tenantsRepo.reopen(tx, row.id);
      tx.audit({ action: 'tenant.reopen', actor, tenantId: row.id, target: { type: 'tenant', id: row.id } });
      return publicTenant(reopened);
    },
  };

  return {
    inner,
    close: (actor: Actor, tenantId: string) => db.transaction((tx) => inner.close(tx, actor, { tenantId })),
    reopen: (actor: Actor, tenantId: string) => db.transaction((tx) => inner.reopen(tx, actor, { tenantId })),
    /** Certificates are platform evidence: readable while the tenant row is a tombstone and its users are gone. */
    async certificates(actor: Actor, tenantId: string) {
      authorizeTenant(actor, tenantId, 'deletion_certificates.read');
      assertThat(await tenantsRepo.find(db, tenantId), () => new RequestError('tenant.not_found'));
      return { items: (await certificatesRepo.list(db, tenantId)).map(publicCertificate) };
    },
  };
}

export type ClosureService = ReturnType<typeof closureServiceFactory>;
