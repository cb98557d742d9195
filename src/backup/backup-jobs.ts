import type { Jobs } from '../jobs/jobs.ts';
import type { BackupService } from './backup-service.ts';
import type { VerifyService } from './verify-service.ts';

export interface BackupJobsDeps {
  backups: BackupService;
  verifications: VerifyService;
  /** TRESOR_BACKUP_INTERVAL_MS; 0 or a store Tresor does not back up itself: no job. */
  intervalMs: number;
  verifyIntervalMs: number;
  embedded: boolean;
  now?: () => Date;
}

// The jobs tick more often than their interval and act only when the newest
// backup (or verification) is older than it: a restart neither adds a backup
// nor pushes the next one back by a whole interval. With no backup yet, the
// first is due one interval after start, so a server started for a test or a
// quick look does not write a backup into ./backups at once.
const TICK_MS = 15 * 60_000;

export function addBackupJobs(jobs: Jobs, { backups, verifications, intervalMs, verifyIntervalMs, embedded, now = () => new Date() }: BackupJobsDeps) {
  const age = (at: Date | string) => now().getTime() - new Date(at).getTime();
  const startedAt = now();
  if (embedded && intervalMs > 0) {
    jobs.add({ name: 'backup', everyMs: Math.min(intervalMs, TICK_MS), run: async (ctx) => {
      const newest = backups.list()[0];
      if (age(newest?.createdAt ?? startedAt) < intervalMs) return;
      const made = await backups.create(ctx.actor);
      ctx.log.info({ backupId: made.id, sizeBytes: made.sizeBytes }, 'scheduled backup written');
    } });
  }
  if (verifyIntervalMs > 0) {
    jobs.add({ name: 'backup_verify', everyMs: Math.min(verifyIntervalMs, TICK_MS), run: async (ctx) => {
      if (!(await verifications.hasBackups())) return;
      const last = await verifications.lastAt();
      if (last && age(last) < verifyIntervalMs) return;
      const v = await verifications.verify(ctx.actor).catch((err) => {
        if ((err as { code?: string }).code === 'backup.verification_in_progress') return null; // one started over the API: it counts
        throw err;
      });
      if (!v) return;
      const log = v.result === 'passed' ? ctx.log.info : ctx.log.error;
      log({ backupId: v.backupId, result: v.result, failed: v.checks.filter((c) => c.status === 'failed').map((c) => c.name) }, 'scheduled restore verification');
    } });
  }
}
