import { Gauge, type Registry } from 'prom-client';
import type { BackupService } from './backup-service.ts';
import type { VerifyService } from './verify-service.ts';

/** Never waits for the database: a scrape answers while it is down (the verify service refreshes its copy in the background). */
export function registerBackupMetrics(registry: Registry, { backups, verifications }: { backups: BackupService; verifications: VerifyService }) {
  new Gauge({ name: 'tresor_backup_last_verified_timestamp_seconds', registers: [registry],
    help: 'When a restore verification last passed (0: never); alert when it is older than the verification interval',
    collect() { const at = verifications.lastPassedKnown(); this.set(at ? at.getTime() / 1000 : 0); } });
  new Gauge({ name: 'tresor_backup_last_created_timestamp_seconds', registers: [registry],
    help: 'When the newest backup in TRESOR_BACKUP_DIR was made (0: none)',
    collect() { const newest = backups.list()[0]; this.set(newest ? Date.parse(newest.createdAt) / 1000 : 0); } });
}
