import type { App } from '../http/app-types.ts';
import { access } from '../http/access.ts';
import { RecordParams, TenantParams, bearer, errorResponses } from '../http/schemas.ts';
import { AuditPage, ExportQuery, HistoryQuery, TenantAuditQuery } from './audit-schemas.ts';
import type { AuditQueryService } from './audit-service.ts';

export function auditRoutes(app: App, { audit }: { audit: AuditQueryService }) {
  app.get('/v1/tenants/:tenantId/audit', {
    config: { ...access.tenant('audit.read'), problems: ['audit.invalid_range', 'request.invalid_cursor'] },
    schema: { operationId: 'listTenantAudit', summary: "Query the tenant's audit log", tags: ['audit-log'], security: bearer, params: TenantParams,
      querystring: TenantAuditQuery, response: { 200: AuditPage, ...errorResponses },
      description: 'Entries of this tenant, newest first, filtered by time range, actor, action and record; pass `nextCursor` back as `cursor`.' },
  }, async (req) => audit.tenantLog(req.actor, req.params.tenantId, req.query));

  app.get('/v1/tenants/:tenantId/collections/:name/records/:id/history', {
    config: { ...access.tenant('audit.read'), problems: ['collection.not_found', 'request.invalid_cursor'] },
    schema: { operationId: 'getRecordHistory', summary: 'Who read or changed a record, and when', tags: ['audit-log'], security: bearer, params: RecordParams,
      querystring: HistoryQuery, response: { 200: AuditPage, ...errorResponses },
      description: 'Every entry naming this record (created, read, listed, found by search, updated, deleted, imported, re-encrypted), newest first. Also answers for a deleted record.' },
  }, async (req) => audit.recordHistory(req.actor, req.params.tenantId, req.params.name, req.params.id, req.query));

  app.get('/v1/audit/export', {
    config: { ...access.platform('audit.export'), problems: ['audit.invalid_range', 'request.invalid_cursor'] },
    schema: { operationId: 'exportAudit', summary: 'Export the audit log (all tenants)', tags: ['audit-log'], security: bearer,
      querystring: ExportQuery, response: { 200: AuditPage, ...errorResponses },
      description: 'Every entry, the platform\'s own included, oldest first, for a SIEM; `tresor audit export` pages through it.' },
  }, async (req) => audit.export(req.actor, req.query));
}
