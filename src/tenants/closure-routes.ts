import { Type } from 'typebox';
import type { App } from '../http/app-types.ts';
import { access } from '../http/access.ts';
import { StringEnum, TenantParams, Timestamp, Uuid, bearer, errorResponses } from '../http/schemas.ts';
import type { ClosureService } from './closure-service.ts';

const ClosedTenant = Type.Object({
  id: Uuid, name: Type.String(), status: StringEnum(['active', 'closed', 'purged'] as const), createdAt: Timestamp,
  closedAt: Type.Union([Timestamp, Type.Null()]), purgeAfter: Type.Union([Timestamp, Type.Null()]),
}, { title: 'TenantLifecycle' });

const Counts = Type.Record(Type.String(), Type.Integer());
const Certificate = Type.Object({
  id: Uuid,
  tenantId: Uuid,
  kind: Type.String({ description: '`tenant.purge`' }),
  issuedAt: Timestamp,
  certificate: Type.Object({
    v: Type.Integer(), certificateId: Uuid, kind: Type.String(), tenant: Type.Object({ id: Uuid, name: Type.String() }),
    policy: Type.Object({ name: Type.String(), setting: Type.String(), months: Type.Integer(), closedAt: Timestamp, purgeAfter: Timestamp }),
    method: Type.Object({ cryptoShredding: Type.String(), rowDeletion: Type.String() }),
    keysDestroyedAt: Timestamp, completedAt: Timestamp, keysDestroyed: Counts, rowsDeleted: Counts,
    collections: Type.Array(Type.String()), kept: Type.String(), backups: Type.String(),
  }, { title: 'DeletionCertificateStatement', description: 'what was deleted, when, how and under which policy' }),
  signedBytes: Type.String({ description: 'base64 of the signed bytes: UTF-8 JSON of `certificate` with sorted keys' }),
  signature: Type.String({ description: 'base64 Ed25519 signature over `signedBytes`' }),
  algorithm: Type.Literal('Ed25519'),
  keyId: Type.String(),
  publicKey: Type.String({ description: 'base64 of the raw 32-byte Ed25519 public key' }),
  text: Type.String({ description: 'the certificate rendered as plain text, for filing' }),
}, { title: 'DeletionCertificate' });

export function closureRoutes(app: App, { closure }: { closure: ClosureService }) {
  app.post('/v1/tenants/:tenantId/close', {
    config: { ...access.tenant('tenants.close'), problems: ['tenant.already_closed'] },
    schema: { operationId: 'closeTenant', summary: 'Close a tenant', tags: ['lifecycle'], security: bearer, params: TenantParams,
      description: 'The tenant becomes read-only at once: collections, records, imports, retention policies and key rotation answer 409 tenant.not_active; reads and exports still work, and users and API keys can still be managed (to export, or to revoke access). After `purgeAfter` (TRESOR_CLOSED_TENANT_RETENTION_MONTHS) its keys are destroyed, its rows deleted and a signed deletion certificate issued. Reopen it with reopenTenant until then.',
      response: { 200: ClosedTenant, ...errorResponses } },
  }, async (req) => closure.close(req.actor, req.params.tenantId));

  app.post('/v1/tenants/:tenantId/reopen', {
    config: { ...access.tenant('tenants.close'), problems: ['tenant.not_closed', 'tenant.keys_destroyed'] },
    schema: { operationId: 'reopenTenant', summary: 'Reopen a closed tenant', tags: ['lifecycle'], security: bearer, params: TenantParams,
      description: 'Makes a closed tenant active again, as long as its keys have not been destroyed (409 tenant.keys_destroyed after).',
      response: { 200: ClosedTenant, ...errorResponses } },
  }, async (req) => closure.reopen(req.actor, req.params.tenantId));

  app.get('/v1/tenants/:tenantId/deletion-certificates', {
    config: access.tenant('deletion_certificates.read'),
    schema: { operationId: 'listDeletionCertificates', summary: "A purged tenant's deletion certificates", tags: ['lifecycle'], security: bearer, params: TenantParams,
      description: 'Each certificate states what was deleted (keys and rows per table, collections), when, how (crypto-shredding, then row deletion) and under which policy, signed with Ed25519 over `signedBytes`, with a plain-text rendering. The tenant row stays as a tombstone (status purged), so operators read them after the purge. Empty until the tenant is purged.',
      response: { 200: Type.Object({ items: Type.Array(Certificate) }, { title: 'DeletionCertificateList' }), ...errorResponses } },
  }, async (req) => closure.certificates(req.actor, req.params.tenantId));
}
