import type { App } from '../../http/app-types.ts';
import { access } from '../../http/access.ts';
import { bearer, errorResponses } from '../../http/schemas.ts';
import type { AuditLogService } from './log-service.ts';
import { ConsistencyProof, ConsistencyQuery, InclusionProof, InclusionQuery, LogEntry, PublicKey, SeqParams, TreeHead } from './log-schemas.ts';

const tags = ['audit-log'];

export function auditLogRoutes(app: App, { auditLog }: { auditLog: AuditLogService }) {
  app.get('/v1/audit/public-key', {
    config: access.public,
    schema: { operationId: 'getAuditPublicKey', summary: 'The key that signs tree heads', tags,
      description: 'Public: an auditor pins it once and checks every tree head against it.', response: { 200: PublicKey, ...errorResponses } },
  }, async () => auditLog.publicKey());

  app.get('/v1/audit/tree-head', {
    config: { ...access.platform('audit_log.read'), problems: ['audit.no_tree_head'] },
    schema: { operationId: 'getAuditTreeHead', summary: 'The latest signed tree head', tags, security: bearer,
      description: 'Save it (`tresor audit head > FILE`) to prove later that the log still extends it.', response: { 200: TreeHead, ...errorResponses } },
  }, async (req) => auditLog.treeHead(req.actor));

  app.get('/v1/audit/entries/:seq', {
    config: { ...access.platform('audit_log.read'), problems: ['audit.entry_not_found', 'audit.entry_redacted'] },
    schema: { operationId: 'getAuditLogEntry', summary: 'An audit entry by seq, with its canonical bytes', tags, security: bearer, params: SeqParams,
      description: 'A tenant key reads only its own tenant\'s entries.', response: { 200: LogEntry, ...errorResponses } },
  }, async (req) => auditLog.entry(req.actor, req.params.seq));

  app.get('/v1/audit/proofs/inclusion', {
    config: { ...access.platform('audit_log.read'), problems: ['audit.seq_out_of_range', 'audit.tree_size_out_of_range'] },
    schema: { operationId: 'getAuditInclusionProof', summary: 'Proof that entry seq is in the tree of treeSize entries', tags, security: bearer,
      querystring: InclusionQuery, description: 'RFC 6962 §2.1.1 audit path; verify as in RFC 9162 §2.1.3.2.', response: { 200: InclusionProof, ...errorResponses } },
  }, async (req) => auditLog.inclusionProof(req.actor, req.query));

  app.get('/v1/audit/proofs/consistency', {
    config: { ...access.platform('audit_log.read'), problems: ['audit.tree_size_out_of_range'] },
    schema: { operationId: 'getAuditConsistencyProof', summary: 'Proof that the tree of second entries extends the tree of first', tags, security: bearer,
      querystring: ConsistencyQuery, description: 'RFC 6962 §2.1.2; verify as in RFC 9162 §2.1.4.2. Empty when first is 0 or equals second.',
      response: { 200: ConsistencyProof, ...errorResponses } },
  }, async (req) => auditLog.consistencyProof(req.actor, req.query));
}
