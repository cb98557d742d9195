import type { Queries } from '../db/db.ts';
import { toBuffer } from '../db/db.ts';
import { canonicalJson } from '../audit/audit-leaf.ts';
import type { SigningKey } from '../crypto/signing.ts';

/** The Ed25519 key of deletion certificates: its own purpose, derived from the root key. */
export const DELETION_CERTIFICATE_PURPOSE = 'deletion.certificate';

/** What a tenant held when its keys were destroyed: the certificate's counts. */
export interface PurgeManifest {
  collections: string[];
  keys: Record<string, number>;
  rows: Record<string, number>;
}

/** The signed statement of a tenant's purge (UTF-8 JSON, keys sorted, as audit leaves). */
export interface DeletionCertificate {
  v: 1;
  certificateId: string;
  kind: 'tenant.purge';
  tenant: { id: string; name: string };
  policy: { name: 'closed-tenant retention'; setting: 'TRESOR_CLOSED_TENANT_RETENTION_MONTHS'; months: number; closedAt: string; purgeAfter: string };
  method: { cryptoShredding: string; rowDeletion: string };
  keysDestroyedAt: string;
  completedAt: string;
  keysDestroyed: Record<string, number>;
  rowsDeleted: Record<string, number>;
  collections: string[];
  kept: string;
  backups: string;
}

export const CRYPTO_SHREDDING = 'first the tenant\'s key secret, kept outside the database (TRESOR_TENANT_KEY_DIR), was overwritten, synced to disk and deleted: every key of the tenant (data keys of every version, blind-index key, pseudonym keys) is wrapped under a key derived from it, so no copy of those keys decrypts any more, in this database, its backups or its replicas; then every wrapped key was deleted from the key tables, in the same transaction; the tenant\'s encrypted fields and blind-index hashes can no longer be decrypted or matched with any key Tresor holds';
export const ROW_DELETION = 'then every row of the tenant in every tenant-owned table was deleted, in batches, and checked to be gone';
export const KEPT = 'the tenant row as a tombstone (id, name, status purged, dates), this certificate, and the tenant\'s audit entries (ids and field names, never values; redacted TRESOR_AUDIT_RETENTION_MONTHS after closure, their hashes kept so the log verifies)';
export const BACKUPS = 'backups and WAL archives made before keysDestroyedAt still hold the tenant\'s rows and wrapped keys until backup rotation deletes them (TRESOR_BACKUP_KEEP; pgBackRest retention), but those keys are wrapped under the destroyed secret: a restored copy answers tenant.keys_destroyed and decrypts nothing. Backups of the key directory made before keysDestroyedAt still hold the secret, and only their rotation ends that (keys wrapped under the root key alone, before the tenant\'s first start with per-tenant keys, are likewise readable in backups of that time)';

export interface CertificateRow { id: string; tenantId: string; kind: string; issuedAt: Date; certificate: Buffer; signature: Buffer; keyId: string; publicKey: Buffer }

export function signCertificate(cert: DeletionCertificate, key: SigningKey) {
  const bytes = Buffer.from(canonicalJson(cert), 'utf8');
  return { bytes, signature: key.sign(bytes), keyId: key.keyId, publicKey: key.publicKey };
}

const counts = (m: Record<string, number>) => Object.entries(m).sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `  ${k.padEnd(24)} ${n}`).join('\n') || '  (none)';

/** The human-readable rendering: plain text a data protection officer can file. */
export function renderCertificate(c: DeletionCertificate, sig: { keyId: string; signature: string }): string {
  return [
    'TRESOR DELETION CERTIFICATE',
    '',
    `Certificate        ${c.certificateId}`,
    `Tenant             ${c.tenant.name} (${c.tenant.id})`,
    `Policy             ${c.policy.name}: purged ${c.policy.months} months after closure (${c.policy.setting})`,
    `Closed at          ${c.policy.closedAt}`,
    `Purge due          ${c.policy.purgeAfter}`,
    `Keys destroyed at  ${c.keysDestroyedAt}`,
    `Rows deleted by    ${c.completedAt}`,
    '',
    'How',
    `  1. Crypto-shredding: ${c.method.cryptoShredding}.`,
    `  2. Row deletion: ${c.method.rowDeletion}.`,
    '',
    'Keys destroyed',
    counts(c.keysDestroyed),
    '',
    'Rows deleted per table',
    counts(c.rowsDeleted),
    '',
    `Collections        ${c.collections.length ? c.collections.join(', ') : '(none)'}`,
    '',
    `Kept: ${c.kept}.`,
    `Backups: ${c.backups}.`,
    '',
    `Signed with Ed25519 key ${sig.keyId}; signature (base64) over the certificate's canonical JSON:`,
    `  ${sig.signature}`,
    '',
  ].join('\n');
}

const columns = `id, tenant_id as "tenantId", kind, issued_at as "issuedAt", certificate, signature, key_id as "keyId", public_key as "publicKey"`;
const asRow = (r: CertificateRow): CertificateRow => ({ ...r, certificate: toBuffer(r.certificate), signature: toBuffer(r.signature), publicKey: toBuffer(r.publicKey) });

// A platform table: the certificates outlive the tenant's data and its users.
export const certificatesRepo = {
  insert: (tx: Queries, r: CertificateRow) => tx.query(`insert into deletion_certificates (id, tenant_id, kind, issued_at, certificate, signature, key_id, public_key)
    values ($1, $2, $3, $4, $5, $6, $7, $8)`, [r.id, r.tenantId, r.kind, r.issuedAt, r.certificate, r.signature, r.keyId, r.publicKey]),
  list: async (tx: Queries, tenantId: string) =>
    (await tx.query<CertificateRow>(`select ${columns} from deletion_certificates where tenant_id = $1 order by id`, [tenantId])).map(asRow),
};

/** A certificate as the API answers it: the statement, the signed bytes, the signature, the key and the text. */
export function publicCertificate(r: CertificateRow) {
  const certificate = JSON.parse(r.certificate.toString('utf8')) as DeletionCertificate;
  const signature = r.signature.toString('base64');
  return { id: r.id, tenantId: r.tenantId, kind: r.kind, issuedAt: r.issuedAt.toISOString(), certificate,
    signedBytes: r.certificate.toString('base64'), signature, keyId: r.keyId, publicKey: r.publicKey.toString('base64'),
    algorithm: 'Ed25519' as const, text: renderCertificate(certificate, { keyId: r.keyId, signature }) };
}
