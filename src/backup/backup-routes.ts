import { Type } from 'typebox';
import type { App } from '../http/app-types.ts';
import { access } from '../http/access.ts';
import { PageQuery, Page, bearer, errorResponses } from '../http/schemas.ts';
import { BackupId, BackupRun, BackupSummary, Verification, VerificationRun, VerifiableBackupId } from './backup-schemas.ts';
import { Uuid } from '../http/schemas.ts';
import type { BackupService } from './backup-service.ts';
import type { VerifyService } from './verify-service.ts';

const BackupParams = Type.Object({ backupId: BackupId });
const VerifyBody = Type.Object({
  backupId: Type.Optional(VerifiableBackupId),
}, { additionalProperties: false, description: 'the backup to verify; the newest when left out' });

export interface BackupRoutesDeps { backups: BackupService; verifications: VerifyService; listDefaultLimit: number; listMaxLimit: number }

export function backupRoutes(app: App, { backups, verifications, listDefaultLimit, listMaxLimit }: BackupRoutesDeps) {
  app.post('/v1/backups', {
    config: { ...access.platform('backups.manage'), problems: ['backup.in_progress', 'backup.unsupported_store'] },
    schema: { operationId: 'createBackup', summary: 'Start a backup of the embedded store', tags: ['backups'], security: bearer,
      description: 'Starts an encrypted, consistent snapshot into TRESOR_BACKUP_DIR and answers at once; follow it with getBackupStatus until `status` is complete or failed. Older backups beyond TRESOR_BACKUP_KEEP are then deleted. PostgreSQL deployments use pgBackRest instead (409 backup.unsupported_store).',
      response: { 202: BackupRun, ...errorResponses } },
  }, async (req, reply) => reply.code(202).send(backups.start(req.actor)));

  app.get('/v1/backups/:backupId/status', {
    config: { ...access.platform('backups.read'), problems: ['backup.not_found'] },
    schema: { operationId: 'getBackupStatus', summary: 'Follow a backup: running, complete or failed', tags: ['backups'], security: bearer, params: BackupParams,
      response: { 200: BackupRun, ...errorResponses } },
  }, async (req) => backups.status(req.params.backupId));

  app.get('/v1/backups', {
    config: access.platform('backups.read'),
    schema: { operationId: 'listBackups', summary: 'List backups, newest first', tags: ['backups'], security: bearer,
      description: 'Every finished backup in TRESOR_BACKUP_DIR (at most TRESOR_BACKUP_KEEP).',
      response: { 200: Type.Object({ items: Type.Array(BackupSummary) }, { title: 'BackupList' }), ...errorResponses } },
  }, async () => ({ items: backups.list() }));

  app.get('/v1/backups/:backupId', {
    config: { ...access.platform('backups.read'), problems: ['backup.not_found'] },
    schema: { operationId: 'getBackup', summary: 'Read one backup\'s manifest', tags: ['backups'], security: bearer, params: BackupParams,
      response: { 200: BackupSummary, ...errorResponses } },
  }, async (req) => backups.get(req.params.backupId));

  app.post('/v1/backups/verifications', {
    config: { ...access.platform('backups.manage'), problems: ['backup.not_found', 'backup.verification_in_progress'] },
    schema: { operationId: 'verifyBackup', summary: 'Start a restore verification of a backup', tags: ['backups'], security: bearer, body: VerifyBody,
      description: 'Answers at once with the run; follow it with getBackupVerificationStatus until `status` is complete (the signed evidence is in `verification`, passed or failed) or failed (it could not run). The embedded store\'s backup is restored into a scratch data dir; with TRESOR_PGBACKREST_STANZA a pgBackRest backup is restored into a throwaway PostgreSQL 15. Then every check runs (embedded: checksum, decryption; PostgreSQL: restore; both: row counts, record decryption, migrations, audit log, erasure ledger) and the signed evidence is recorded.',
      response: { 202: VerificationRun, ...errorResponses } },
  }, async (req, reply) => reply.code(202).send(await verifications.start(req.actor, req.body?.backupId)));

  app.get('/v1/backups/verifications/:verificationId/status', {
    config: { ...access.platform('backups.read'), problems: ['backup.verification_not_found'] },
    schema: { operationId: 'getBackupVerificationStatus', summary: 'Follow a restore verification: running, complete or failed', tags: ['backups'], security: bearer,
      params: Type.Object({ verificationId: Uuid }), response: { 200: VerificationRun, ...errorResponses } },
  }, async (req) => verifications.status(req.params.verificationId));

  app.get('/v1/backups/verifications', {
    config: access.platform('backups.read'),
    schema: { operationId: 'listBackupVerifications', summary: 'Signed evidence of restore verifications, newest first', tags: ['backups'], security: bearer,
      querystring: PageQuery, description: 'Each restore test with its checks, result and Ed25519 signature over `evidence`; pass `nextCursor` back as `cursor`.',
      response: { 200: Page(Verification, 'BackupVerificationPage'), ...errorResponses } },
  }, async (req) => verifications.list({ limit: Math.min(req.query.limit ?? listDefaultLimit, listMaxLimit), cursor: req.query.cursor }));
}
