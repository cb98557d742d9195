import { Type, type Static } from 'typebox';
import { StringEnum, Timestamp, Uuid } from '../http/schemas.ts';

// Backup ids sort by creation time and are safe as file names: 20261202T041500123Z-9f86d081.
export const BACKUP_ID_PATTERN = '^[0-9]{8}T[0-9]{9}Z-[0-9a-f]{8}$';
export const BackupId = Type.String({ pattern: BACKUP_ID_PATTERN, description: 'time-ordered backup id', examples: ['20261202T041500123Z-9f86d081'] });

/** What a verification names: an embedded backup's id, or a pgBackRest backup label (20261202-041500F, 20261202-041500F_20261203-041500D). */
export const VerifiableBackupId = Type.String({ pattern: '^(?:[0-9]{8}T[0-9]{9}Z-[0-9a-f]{8}|[0-9]{8}-[0-9]{6}F(?:_[0-9]{8}-[0-9]{6}[DI])?)$',
  description: 'a backup id (embedded store) or a pgBackRest backup label (PostgreSQL)', examples: ['20261202T041500123Z-9f86d081', '20261202-041500F'] });

export const TenantRows = Type.Object({
  tenantId: Uuid,
  rows: Type.Record(Type.String(), Type.Integer({ minimum: 0 }), { description: 'rows per tenant-owned table' }),
}, { title: 'BackupTenantRows' });

/** Everything known about a backup before its data is read: it travels in the file's authenticated header. */
export const BackupManifest = Type.Object({
  id: BackupId,
  createdAt: Timestamp,
  store: StringEnum(['pglite'] as const),
  schemaVersion: Type.Integer({ description: 'highest migration applied in the backed-up store' }),
  snapshotBytes: Type.Integer({ description: 'bytes of the unencrypted snapshot' }),
  environment: Type.Optional(StringEnum(['production', 'staging', 'test'] as const, {
    description: 'TRESOR_ENVIRONMENT of the deployment that made it: a production backup is never restored into a staging or test deployment (absent in older backups: counted as production)' })),
  tenants: Type.Array(TenantRows),
  auditTreeHead: Type.Union([Type.Object({
    treeSize: Type.Integer(), rootHash: Type.String({ description: 'base64' }), timestampMs: Type.Integer(),
    signature: Type.String({ description: 'base64 Ed25519 signature (as GET /v1/audit/tree-head)' }), keyId: Type.String(),
  }, { title: 'BackupAuditTreeHead' }), Type.Null()], {
    description: 'the latest signed audit tree head in the store, null while it has none; verification checks the restored log against it' }),
}, { title: 'BackupManifest' });
export type BackupManifest = Static<typeof BackupManifest>;

/** A finished backup as listed: its manifest plus the file's size and checksums. */
export const BackupSummary = Type.Object({
  ...BackupManifest.properties,
  sizeBytes: Type.Integer({ description: 'bytes of the encrypted file' }),
  sha256: Type.String({ description: 'SHA-256 (hex) of the encrypted file' }),
  snapshotSha256: Type.String({ description: 'SHA-256 (hex) of the unencrypted snapshot' }),
}, { title: 'Backup' });
export type BackupSummary = Static<typeof BackupSummary>;

/** A backup started over the API: it runs in the background (minutes for a large store). */
export const BackupRun = Type.Object({
  id: BackupId,
  status: StringEnum(['running', 'complete', 'failed'] as const),
  bytesDone: Type.Integer({ description: 'snapshot bytes encrypted and written so far' }),
  bytesTotal: Type.Integer({ description: 'snapshot bytes in all (0 until the snapshot is taken)' }),
  error: Type.Union([Type.Object({ code: Type.String(), detail: Type.String() }), Type.Null()], { description: 'why it failed' }),
  backup: Type.Union([BackupSummary, Type.Null()], { description: 'the finished backup' }),
}, { title: 'BackupRun' });
export type BackupRun = Static<typeof BackupRun>;

export const CheckStatus = StringEnum(['passed', 'failed', 'skipped', 'not_applicable'] as const);
export const VerificationCheck = Type.Object({
  name: Type.String({ description: 'embedded: checksum, decryption, row_counts, record_decryption, migrations, audit_log, erasure_ledger; pgBackRest: restore, row_counts, record_decryption, migrations, audit_log, erasure_ledger' }),
  status: CheckStatus,
  detail: Type.String(),
}, { title: 'VerificationCheck' });
export type VerificationCheck = Static<typeof VerificationCheck>;

/** What is signed: the canonical JSON of these fields (keys sorted). */
export const VerificationEvidence = Type.Object({
  backupId: VerifiableBackupId,
  verifiedAt: Timestamp,
  result: StringEnum(['passed', 'failed'] as const),
  checks: Type.Array(VerificationCheck),
}, { title: 'VerificationEvidence' });
export type VerificationEvidence = Static<typeof VerificationEvidence>;

export const Verification = Type.Object({
  id: Uuid,
  ...VerificationEvidence.properties,
  evidence: Type.String({ description: 'base64 of the signed bytes: UTF-8 JSON of backupId, checks, result, verifiedAt with sorted keys' }),
  signature: Type.String({ description: 'base64 Ed25519 signature over `evidence`' }),
  keyId: Type.String({ description: 'the signing key that made `signature`' }),
  publicKey: Type.String({ description: 'base64 of the raw 32-byte Ed25519 public key' }),
}, { title: 'BackupVerification' });
export type Verification = Static<typeof Verification>;

/** A verification started over the API: it runs in the background (minutes for a large store). */
export const VerificationRun = Type.Object({
  id: Uuid,
  backupId: VerifiableBackupId,
  status: StringEnum(['running', 'complete', 'failed'] as const, {
    description: 'complete: the evidence is recorded (its own result says passed or failed); failed: the verification could not run, no evidence' }),
  step: Type.String({ description: 'the step under way: restore, start (PostgreSQL), row_counts, record_decryption, migrations, audit_log, erasure_ledger' }),
  stepsDone: Type.Integer({ minimum: 0 }),
  stepsTotal: Type.Integer({ minimum: 1 }),
  error: Type.Union([Type.Object({ code: Type.String(), detail: Type.String() }), Type.Null()], { description: 'why it could not run' }),
  verification: Type.Union([Verification, Type.Null()], { description: 'the signed evidence, once complete' }),
}, { title: 'BackupVerificationRun' });
export type VerificationRun = Static<typeof VerificationRun>;
