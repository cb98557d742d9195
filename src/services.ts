import { type Config, instructionRequired } from './config.ts';
import type { Db } from './db/db.ts';
import type { KeyProvider } from './crypto/key-provider.ts';
import { apiKeysServiceFactory } from './api-keys/api-keys-service.ts';
import { keysServiceFactory } from './keys/keys-service.ts';
import { tenantKeksFor } from './keys/tenant-keks.ts';
import { rotationServiceFactory } from './keys/rotation-service.ts';
import { tenantsServiceFactory } from './tenants/tenants-service.ts';
import { tenantExportFactory } from './tenants/tenant-export.ts';
import { exportDeliveryFactory } from './tenants/export-delivery.ts';
import { collectionsServiceFactory } from './collections/collections-service.ts';
import { recordsServiceFactory } from './records/records-service.ts';
import { reencryptServiceFactory } from './records/reencrypt-service.ts';
import { importServiceFactory } from './records/import-service.ts';
import { createJobs, type JobLog } from './jobs/jobs.ts';
import { auditQueryServiceFactory } from './audit/audit-service.ts';
import { createRequestLog } from './audit/request-log.ts';
import { auditRetentionFactory } from './audit/retention.ts';
import { createMetrics, type Metrics } from './http/metrics.ts';
import { signingKeyFor } from './crypto/signing.ts';
import { AUDIT_SIGNING_PURPOSE } from './audit/merkle/tree-head.ts';
import { sequencerFactory } from './audit/merkle/sequencer.ts';
import { auditLogServiceFactory } from './audit/merkle/log-service.ts';
import { securityEventsServiceFactory } from './security-events/security-events-service.ts';
import { securityAlerts } from './security-events/alerts.ts';
import { accessDeniedRecorder } from './security-events/access-denied.ts';
import { supportGrantsServiceFactory } from './access/support-grants-service.ts';
import { backupServiceFactory } from './backup/backup-service.ts';
import { verifyServiceFactory } from './backup/verify-service.ts';
import { addBackupJobs } from './backup/backup-jobs.ts';
import { createIdentity } from './identity/identity.ts';
import { createEgress } from './transfer/egress.ts';
import { type InstructionGate, instructionGate } from './instructions/instruction-gate.ts';
import { instructionsServiceFactory } from './instructions/instructions-service.ts';
import { parseAllowlist, parseDnsServers } from './transfer/destinations.ts';
import { pseudonymsServiceFactory } from './pseudonyms/pseudonyms-service.ts';
import { subjectsServiceFactory } from './subject-rights/subjects-service.ts';
import { LEDGER_SIGNING_PURPOSE } from './subject-rights/erasure-ledger.ts';
import { subProcessorsServiceFactory } from './transfer/sub-processors-service.ts';
import { heldRecordIds } from './subject-rights/subjects-repo.ts';
import { clockFor } from './clock.ts';
import { retentionServiceFactory } from './retention/retention-service.ts';
import { closureServiceFactory } from './tenants/closure-service.ts';
import { purgeServiceFactory, tenantUnderLegalHold } from './tenants/purge-service.ts';
import { DELETION_CERTIFICATE_PURPOSE } from './tenants/deletion-certificates.ts';
import { createTom } from './tom/tom.ts';
import { incidentRules } from './incidents/incident-rules.ts';
import { incidentClock } from './incidents/incident-clock.ts';
import { incidentsServiceFactory } from './incidents/incidents-service.ts';
import { pgBackRestConfig } from './backup/pgbackrest.ts';

export interface ServiceDeps {
  db: Db; keyProvider: KeyProvider; onError?: (msg: string, err: unknown) => void; log?: JobLog; metrics?: Metrics;
  /** The clock of time-bound access (support grants, key expiry, events, sessions, tokens, throttling): tests move it instead of sleeping. */
  now?: () => Date;
}

const silent: JobLog = { info: () => {}, warn: () => {}, error: () => {} };


/** Wires the feature services once; the HTTP app and the CLI share them. */
export function createServices(config: Config, { db, keyProvider, onError = () => {}, log = silent, metrics = createMetrics(), now = clockFor(config.clockOffset) }: ServiceDeps) {
  const { meters } = metrics;
  // The egress module asks the instruction gate for transfer mechanisms; the
  // gate records refusals through security events, whose alerts use egress.
  let gate: InstructionGate | undefined;
  // Incident rules hear of refused transfers, security events, failed restore
  // verifications and unapproved support access; they need only the store.
  const rules = incidentRules({ db, now, dedupHours: config.incidentDedupHours, denialThreshold: config.incidentDenialThreshold,
    lockoutThreshold: config.incidentLockoutThreshold, burstWindowMs: config.incidentBurstWindowMs, onError });
  const egress = createEgress({ db, destinations: parseAllowlist(config.egressAllow).destinations, timeoutMs: config.egressTimeoutMs,
    responseMaxBytes: config.egressResponseMaxBytes, dnsServers: parseDnsServers(config.egressDnsServers) ?? [], permits: { mechanismFor: (tenantId, url, country) => gate!.mechanismFor(tenantId, url, country) },
    onRefused: rules.egressRefused });
  const alerts = config.securityAlertUrl ? securityAlerts({ url: config.securityAlertUrl, timeoutMs: config.securityAlertTimeoutMs,
    queueMax: config.securityAlertQueueMax, denialThreshold: config.denialAlertThreshold, denialWindowMs: config.denialAlertWindowMs }, egress, now, onError) : null;
  const securityEvents = securityEventsServiceFactory({ db, now,
    observer: { recorded: (e) => { alerts?.observer.recorded(e); rules.observer.recorded(e); } } });
  gate = instructionGate({ db, securityEvents, required: instructionRequired(config), onError,
    cache: { max: config.collectionCacheMax, ttlMs: config.instructionCacheTtlMs } });
  const instructions = gate;
  const tenantKeks = tenantKeksFor(keyProvider, config.tenantKeyDir);
  const keys = keysServiceFactory({ db, tenantKeks, keyCacheMax: config.keyCacheMax, keyCacheTtlMs: config.keyCacheTtlMs });
  const collections = collectionsServiceFactory({ db, maxFields: config.maxFields, maxLengthCap: config.maxLengthCap, defaultMaxLength: config.defaultMaxLength,
    cache: { max: config.collectionCacheMax, ttlMs: config.collectionCacheTtlMs }, afterCreate: (tx, c) => subjects.inner.extendHolds(tx, c) });
  const subjects = subjectsServiceFactory({ db, keys, backupDir: config.backupDir, now,
    ledgerKey: signingKeyFor(keyProvider, LEDGER_SIGNING_PURPOSE), certificateKey: signingKeyFor(keyProvider, 'erasure.certificate') });
  const pseudonyms = pseudonymsServiceFactory({ db, tenantKeks, collections, now, mappingPeriodMs: config.pseudonymMappingDays * 24 * 3600_000,
    maxLiveVersions: config.pseudonymMaxVersions, rekeyBatch: config.pseudonymRekeyBatch, cache: { max: config.keyCacheMax, ttlMs: config.keyCacheTtlMs } });
  const recordLimits = { jsonMaxBytes: config.jsonMaxBytes, recordMaxBytes: config.recordMaxBytes, cardGuard: config.paymentCardGuard === 'on' };
  const records = recordsServiceFactory({ db, collections, keys, instructions, pseudonyms: pseudonyms.inner, listDefaultLimit: config.listDefaultLimit, listMaxLimit: config.listMaxLimit,
    limits: { ...recordLimits, pageMaxBytes: config.pageMaxBytes } });
  const reencrypt = reencryptServiceFactory({ db, keys });
  const jobs = createJobs({ db, log, retries: config.jobRetries, retryBaseMs: config.jobRetryBaseMs });
  const auditSigningKey = signingKeyFor(keyProvider, AUDIT_SIGNING_PURPOSE);
  const sequencer = sequencerFactory({ db, signingKey: auditSigningKey, batchSize: config.auditSequenceBatch });
  const auditRetention = auditRetentionFactory({ db, months: config.auditRetentionMonths, batchSize: config.auditRetentionBatch, now });
  jobs.add({ name: 'audit-retention', everyMs: config.auditRetentionPollMs, run: async (ctx) => {
    const n = await auditRetention.purge(ctx.stopping);
    if (n) ctx.log.info({ entries: n }, 'audit entries of closed tenants redacted');
  } });
  jobs.add({ name: 'pseudonym-retirement', everyMs: config.pseudonymRetirePollMs, run: async (ctx) => {
    const n = await pseudonyms.retireDue(ctx.stopping);
    if (n) ctx.log.info({ versions: n }, 'pseudonym key versions retired');
  } });
  jobs.add({ name: 'audit-sequencer', everyMs: config.auditSequenceMs, run: async (ctx) => { await sequencer.sequence(ctx.stopping); } });
  const pgBackRest = pgBackRestConfig(config);
  const backups = backupServiceFactory({ db, keyProvider, backupDir: config.backupDir, keep: config.backupKeep, environment: config.environment, onError });
  const verifications = verifyServiceFactory({ db, keyProvider, tenantKeks, backups, backupDir: config.backupDir, sample: config.backupVerifySample,
    signer: signingKeyFor(keyProvider, 'backup.verification'), onError, onRecorded: rules.restoreVerified,
    pgbackrest: pgBackRest && config.databaseUrl ? { cfg: pgBackRest, databaseUrl: config.databaseUrl } : undefined });
  addBackupJobs(jobs, { backups, verifications, intervalMs: config.backupIntervalMs, verifyIntervalMs: config.backupVerifyIntervalMs, embedded: !!db.snapshot });
  const subProcessors = subProcessorsServiceFactory({ db, egress, now, objectionDays: config.subProcessorObjectionDays,
    attempts: config.subProcessorNoticeAttempts, retryBaseMs: config.subProcessorNoticeRetryMs, batch: config.listMaxLimit, listMax: config.listMaxLimit });
  jobs.add({ name: 'sub-processor-outbox', everyMs: config.subProcessorOutboxPollMs, run: async (ctx) => {
    const n = await subProcessors.deliverDue(ctx.stopping);
    if (n.delivered || n.failed) ctx.log.info(n, 'sub-processor announcements');
  } });
  const retention = retentionServiceFactory({ db, collections, batchSize: config.retentionBatch, now, heldRecords: heldRecordIds });
  const purge = purgeServiceFactory({ db, keys, secrets: tenantKeks.secrets, signingKey: signingKeyFor(keyProvider, DELETION_CERTIFICATE_PURPOSE), now,
    months: config.closedTenantRetentionMonths, batchSize: config.retentionBatch, tenantHeld: tenantUnderLegalHold, onError });
  jobs.add({ name: 'retention', everyMs: config.retentionPollMs, run: async (ctx) => {
    const { deleted } = await retention.enforce({ stopping: ctx.stopping });
    if (deleted) ctx.log.info({ records: deleted }, 'expired records deleted by retention');
  } });
  jobs.add({ name: 'tenant-purge', everyMs: config.retentionPollMs, run: async (ctx) => {
    for (const p of await purge.purgeDue({ stopping: ctx.stopping })) ctx.log.info(p, 'closed tenant purged; deletion certificate issued');
  } });
  const identity = createIdentity(config, { db, keyProvider, keys, now, meters, securityEvents: securityEvents.inner });
  const tom = createTom(config, { db, keyProvider, now, jobs, securityEvents: securityEvents.inner,
    onAuditVerified: rules.auditVerified, backups, pgBackRest });
  const clock = incidentClock({ db, now, egress, alertUrl: config.incidentAlertUrl ?? config.securityAlertUrl,
    alertTimeoutMs: config.securityAlertTimeoutMs, onError });
  jobs.add({ name: 'incident-clock', everyMs: config.incidentClockPollMs, run: async (ctx) => {
    const given = await clock.tick();
    for (const w of given) ctx.log.warn(w, 'incident clock warning');
  } });
  const tenantExport = tenantExportFactory({ db, keys, pageSize: config.exportPageSize });
  return {
    identity,
    tom,
    db,
    metrics,
    jobs,
    keys,
    tenantKeks,
    backups,
    verifications,
    collections,
    sequencer,
    auditRetention,
    auditLog: auditLogServiceFactory({ db, signingKey: auditSigningKey }),
    records,
    pseudonyms,
    subjects,
    securityEvents,
    securityAlerts: alerts,
    egress,
    instructionGate: instructions,
    subProcessors,
    instructions: instructionsServiceFactory({ db, gate: instructions, securityEvents, now }),
    accessDenied: accessDeniedRecorder(securityEvents, onError),
    supportGrants: supportGrantsServiceFactory({ db, securityEvents, now, maxMinutes: config.supportGrantMaxMinutes, listMax: config.listMaxLimit,
      onUnapproved: rules.supportWithoutApproval }),
    incidents: incidentsServiceFactory({ db, now, listMax: config.listMaxLimit, recordIdsMax: config.incidentRecordIdsMax, dpoContact: config.dpoContact }),
    incidentRules: rules,
    incidentClock: clock,
    apiKeys: apiKeysServiceFactory({ db, securityEvents, now, maxDays: config.apiKeyMaxDays, authCache: { max: config.authCacheMax, ttlMs: config.authCacheTtlMs }, touchIntervalMs: config.keyTouchIntervalMs, meters, onTouchError: (err) => onError('api key touch failed', err) }),
    tenants: tenantsServiceFactory({ db, keys }),
    tenantExport,
    exportDelivery: exportDeliveryFactory({ tenantExport, egress }),
    closure: closureServiceFactory({ db, now, months: config.closedTenantRetentionMonths, secrets: tenantKeks.secrets }),
    retention,
    purge,
    requestLog: createRequestLog({ db, flushMs: config.requestLogFlushMs, bufferMax: config.requestLogBufferMax, batchMax: config.requestLogBatchMax,
      meters, onError: (err) => onError('request log write failed', err) }),
    audit: auditQueryServiceFactory({ db, collections, defaultLimit: config.listDefaultLimit, maxLimit: config.listMaxLimit }),
    imports: importServiceFactory({ db, collections, keys, instructions, pseudonyms: pseudonyms.inner, poolSize: config.importWorkers, recordLimits, meters,
      limits: { batchSize: config.importBatchSize, batchBytes: config.importBatchBytes, dedupMax: config.importDedupMax, reportMax: config.importReportMax } }),
    rotation: rotationServiceFactory({
      db, keys, jobs, meters, reencryptBatch: reencrypt.reencryptBatch, keyCacheTtlMs: config.keyCacheTtlMs,
      retireMarginMs: config.rotationRetireMarginMs, pollMs: config.rotationPollMs, unreadableMax: config.listMaxLimit,
      // PGlite runs one transaction at a time: small batches, one loop, so
      // requests get through between them. PostgreSQL takes two loops at once.
      batchSize: db.kind === 'postgres' ? config.rotationBatchSize : config.embeddedRotationBatch,
      concurrency: db.kind === 'postgres' ? 2 : 1,
    }),
  };
}

export type Services = ReturnType<typeof createServices>;
