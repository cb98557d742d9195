import type { Config } from '../config.ts';
import type { Db } from '../db/db.ts';
import type { KeyProvider } from '../crypto/key-provider.ts';
import { signingKeyFor } from '../crypto/signing.ts';
import { AUDIT_SIGNING_PURPOSE } from '../audit/merkle/tree-head.ts';
import { type VerifyReport, verifyLog } from '../audit/merkle/verify.ts';
import type { Jobs } from '../jobs/jobs.ts';
import type { SecurityEventsService } from '../security-events/security-events-service.ts';
import type { BackupService } from '../backup/backup-service.ts';
import type { CheckDeps } from './tom-checks.ts';
import { tomRegister } from './tom-register.ts';
import { tomServiceFactory } from './tom-service.ts';
import { TOM_SIGNING_PURPOSE } from './tom-signature.ts';
import { htmlToPdf } from './tom-pdf.ts';
import { type PgBackRestConfig, listPgBackups } from '../backup/pgbackrest.ts';

export interface TomWiring {
  db: Db; keyProvider: KeyProvider; now: () => Date; jobs: Pick<Jobs, 'add'>;
  securityEvents: SecurityEventsService['inner'];
  /** Hears each full verification of the audit log (the incident rules open one for a failed verification). */
  onAuditVerified: (report: VerifyReport) => void;
  backups: Pick<BackupService, 'list'>;
  /** The pgBackRest repository whose backups the backup-age check reads (PostgreSQL), if configured. */
  pgBackRest: PgBackRestConfig | undefined;
}

/**
 * Patroni's own REST API (an operations endpoint of the cluster, no personal
 * data): GET /cluster from the first member in the list that answers.
 */
async function patroniCluster(urls: string, timeoutMs: number) {
  let failure: unknown;
  for (const url of urls.split(',')) {
    try {
      const res = await fetch(new URL('/cluster', url), { signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
      if (!res.ok) throw new Error(`Patroni at ${url} answered ${res.status}`);
      return await (res.json() as Promise<Awaited<ReturnType<CheckDeps['patroniCluster']>>>);
    } catch (err) {
      failure = err;
    }
  }
  throw failure;
}

/**
 * A full audit log verification reads every entry: the register and the annex
 * use one that is at most `maxAgeMs` old, and callers asking meanwhile share
 * the one under way, so no burst of report requests can each verify the log.
 */
function recentVerification<T>(verify: () => Promise<T>, now: () => Date, maxAgeMs: number): () => Promise<T & { verifiedAt: Date }> {
  let last: (T & { verifiedAt: Date }) | undefined;
  let running: Promise<T & { verifiedAt: Date }> | undefined;
  return () => {
    if (last && now().getTime() - last.verifiedAt.getTime() < maxAgeMs) return Promise.resolve(last);
    running ??= verify().then((r) => (last = { ...r, verifiedAt: now() })).finally(() => { running = undefined; });
    return running;
  };
}

/** The TOM register, its checks and the annex generator, wired once; the job re-checks every TRESOR_TOM_CHECK_INTERVAL_MS. */
export function createTom(config: Config, { db, keyProvider, now, jobs, securityEvents, onAuditVerified, backups, pgBackRest }: TomWiring) {
  const auditKey = signingKeyFor(keyProvider, AUDIT_SIGNING_PURPOSE);
  const checks: CheckDeps = {
    db, config, now,
    verifyAuditLog: recentVerification(async () => {
      const report = await verifyLog(db, auditKey.publicKey);
      onAuditVerified(report);
      return report;
    }, now, config.tomAuditVerifyMaxAgeMs),
    backupList: () => backups.list(),
    pgBackups: pgBackRest && (() => listPgBackups(pgBackRest)),
    patroniCluster: (url) => patroniCluster(url, config.patroniTimeoutMs),
  };
  const register = tomRegister({ db, now, checks, securityEvents });
  if (config.tomCheckIntervalMs > 0) {
    jobs.add({ name: 'tom-checks', everyMs: config.tomCheckIntervalMs, run: async (ctx) => {
      const failing = (await register.evaluate()).filter((e) => e.status === 'failing' || e.status === 'overdue').map((e) => e.key);
      if (failing.length) ctx.log.warn({ measures: failing }, 'TOM measures failing or overdue');
    } });
  }
  return tomServiceFactory({ db, config, now, register, signingKey: signingKeyFor(keyProvider, TOM_SIGNING_PURPOSE),
    pdf: (html) => htmlToPdf(html, { executablePath: config.chromiumPath, timeoutMs: config.pdfTimeoutMs }) });
}
