import Fastify, { type FastifyBaseLogger } from 'fastify';
import { randomUUID } from 'node:crypto';
import { type Config, trustedProxyList } from './config.ts';
import type { Services } from './services.ts';
import type { App } from './http/app-types.ts';
import { clientErrorHandler, frameworkErrors, registerProblemHandlers } from './http/problem-handler.ts';
import { registerValidators } from './http/validator.ts';
import { registerJsonBody } from './http/json-body.ts';
import { registerRequestDeadline, serverTimeouts } from './http/timeouts.ts';
import { registerMetrics } from './http/metrics.ts';
import { registerAccess } from './http/access.ts';
import { registerOpenApi } from './http/openapi.ts';
import { apiKeyAuthenticator, authenticatorChain } from './access/authenticate.ts';
import { problemsRoutes } from './http/problems-routes.ts';
import { healthRoutes } from './http/health-routes.ts';
import { tenantsRoutes } from './tenants/tenants-routes.ts';
import { tenantExportRoutes } from './tenants/export-routes.ts';
import { apiKeysRoutes } from './api-keys/api-keys-routes.ts';
import { collectionsRoutes } from './collections/collections-routes.ts';
import { recordsRoutes } from './records/records-routes.ts';
import { importRoutes } from './records/import-routes.ts';
import { keysRoutes } from './keys/keys-routes.ts';
import { auditLogRoutes } from './audit/merkle/log-routes.ts';
import { auditRoutes } from './audit/audit-routes.ts';
import { registerRequestLog } from './audit/request-log-hook.ts';
import { securityEventsRoutes } from './security-events/security-events-routes.ts';
import { backupRoutes } from './backup/backup-routes.ts';
import { registerBackupMetrics } from './backup/backup-metrics.ts';
import { permissionsRoutes } from './access/permissions-routes.ts';
import { usersRoutes } from './identity/users-routes.ts';
import { authRoutes } from './identity/auth-routes.ts';
import { authPolicyRoutes } from './identity/auth-policy-routes.ts';
import { supportGrantsRoutes } from './access/support-grants-routes.ts';
import { requestMeta } from './http/request-meta.ts';
import { pseudonymsRoutes } from './pseudonyms/pseudonyms-routes.ts';
import { subjectsRoutes } from './subject-rights/subjects-routes.ts';
import { instructionsRoutes } from './instructions/instructions-routes.ts';
import { subProcessorsRoutes } from './transfer/sub-processors-routes.ts';
import { retentionRoutes } from './retention/retention-routes.ts';
import { registerRetentionMetrics } from './retention/retention-metrics.ts';
import { closureRoutes } from './tenants/closure-routes.ts';
import { registerTransport } from './http/tls.ts';
import type { SecureContextOptions } from 'node:tls';
import { tomRoutes } from './tom/tom-routes.ts';
import { incidentsRoutes } from './incidents/incidents-routes.ts';
import { registerIncidentMetrics } from './incidents/incident-metrics.ts';

// Secrets and bodies never reach the log: auth headers and cookies are
// redacted, and request bodies are not logged at all. URLs carry no personal
// values by design (lookups travel in bodies).
export const logRedaction = ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-csrf-token"]', 'res.headers["set-cookie"]'];

export async function buildApp(config: Config, services: Services, opts: { logger?: FastifyBaseLogger; https?: SecureContextOptions } = {}): Promise<App> {
  const app = Fastify({
    ...(opts.https ? { https: opts.https } : {}),
    ...(opts.logger ? { loggerInstance: opts.logger } : { logger: false }),
    bodyLimit: config.bodyLimitBytes,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    // X-Forwarded-For names the client only when it comes from a proxy we run.
    trustProxy: trustedProxyList(config.trustedProxies) ?? [],
    ajv: { customOptions: { removeAdditional: false } },
    frameworkErrors,
    clientErrorHandler,
    ...serverTimeouts(config),
  }) as unknown as App;

  // The API speaks JSON only: without this, Fastify's built-in text/plain
  // parser would let a text body through to schema validation (400, not 415).
  app.removeContentTypeParser('text/plain');
  // Set first thing, so every answer (errors and 404s included) carries it,
  // without an onSend hook on every reply.
  app.addHook('onRequest', (req, reply, done) => { reply.header('x-request-id', req.id).header('tresor-environment', config.environment); done(); });
  registerTransport(app, config);
  registerJsonBody(app, config.bodyLimitBytes);
  registerRequestDeadline(app, config);
  registerValidators(app);
  registerProblemHandlers(app, { retryAfterSeconds: config.retryAfterSeconds, meters: services.metrics.meters });
  // Before any route: every route must declare its access, or start-up fails.
  registerAccess(app, authenticatorChain([apiKeyAuthenticator(services.apiKeys.authenticate), services.identity.sessions.authenticator]), services.metrics.meters, {
    onDenied: services.accessDenied,
    actAs: (actor, tenantId, req) => services.supportGrants.actAs(actor, tenantId,
      { action: req.routeOptions.config.action ?? '', method: req.method, route: req.routeOptions.url ?? null, ...requestMeta(req) }),
  });
  registerMetrics(app, { registry: services.metrics.registry, db: services.db, poolMax: services.db.kind === 'postgres' ? config.dbPoolMax : 1,
    more: (registry) => { services.jobs.registerMetrics(registry); registerBackupMetrics(registry, services); registerRetentionMetrics(registry, services); registerIncidentMetrics(registry, services); }, port: config.metricsPort, host: config.host });
  await registerOpenApi(app, config);
  registerRequestLog(app, services.requestLog, config.requestLogFieldMax);
  // A restored store must not bring an erased subject back: the erasure
  // ledger's entries it lacks are applied before the first request is served.
  app.addHook('onReady', async () => { await services.subjects.reapplyLedger(); });
  app.addHook('onClose', async () => { await services.backups.idle(); await services.verifications.idle(); await services.jobs.stop(); await services.incidentRules.idle(); await services.imports.close(); await services.requestLog.close(); });

  healthRoutes(app, { db: services.db, environment: config.environment });
  problemsRoutes(app);
  tenantsRoutes(app, { tenants: services.tenants, listDefaultLimit: config.listDefaultLimit, listMaxLimit: config.listMaxLimit });
  tenantExportRoutes(app, { tenantExport: services.tenantExport, exportDelivery: services.exportDelivery });
  closureRoutes(app, { closure: services.closure });
  apiKeysRoutes(app, { apiKeys: services.apiKeys });
  collectionsRoutes(app, { collections: services.collections,
    limits: { maxFields: config.maxFields, maxLengthCap: config.maxLengthCap, defaultMaxLength: config.defaultMaxLength } });
  retentionRoutes(app, { retention: services.retention });
  recordsRoutes(app, { records: services.records });
  subjectsRoutes(app, { subjects: services.subjects, listDefaultLimit: config.listDefaultLimit, listMaxLimit: config.listMaxLimit });
  importRoutes(app, { imports: services.imports, importLimitBytes: config.importLimitBytes, importLineMaxBytes: config.importLineMaxBytes });
  keysRoutes(app, { rotation: services.rotation });
  pseudonymsRoutes(app, { pseudonyms: services.pseudonyms });
  auditLogRoutes(app, { auditLog: services.auditLog });
  auditRoutes(app, { audit: services.audit });
  permissionsRoutes(app);
  supportGrantsRoutes(app, { supportGrants: services.supportGrants, maxMinutes: config.supportGrantMaxMinutes });
  securityEventsRoutes(app, { securityEvents: services.securityEvents, listDefaultLimit: config.listDefaultLimit, listMaxLimit: config.listMaxLimit });
  backupRoutes(app, { backups: services.backups, verifications: services.verifications, listDefaultLimit: config.listDefaultLimit, listMaxLimit: config.listMaxLimit });
  usersRoutes(app, { users: services.identity.users });
  authRoutes(app, services.identity);
  authPolicyRoutes(app, { authPolicy: services.identity.authPolicy });
  instructionsRoutes(app, { instructions: services.instructions });
  subProcessorsRoutes(app, { subProcessors: services.subProcessors });
  tomRoutes(app, { tom: services.tom });
  incidentsRoutes(app, { incidents: services.incidents, listDefaultLimit: config.listDefaultLimit });
  return app;
}
