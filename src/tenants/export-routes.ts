import { Readable } from 'node:stream';
import { Type } from 'typebox';
import type { App } from '../http/app-types.ts';
import { access } from '../http/access.ts';
import { compileValidatorOptionalBody } from '../http/validator.ts';
import { TenantParams, bearer, errorResponses } from '../http/schemas.ts';
import type { TenantExport } from './tenant-export.ts';
import type { ExportDelivery } from './export-delivery.ts';

const example = [
  '{"type":"export","tenantId":"0193a1c2-7d4e-7f00-8000-0000000000aa","startedAt":"2026-12-02T08:00:00.000Z","collections":1,"records":1}',
  '{"type":"collection","name":"customers","fields":[{"name":"email","type":"email","classification":"personal"}]}',
  '{"type":"record","collection":"customers","id":"0193a1c2-7d4e-7f00-8000-000000000001","version":1,"createdAt":"2026-12-02T08:00:00.000Z","updatedAt":"2026-12-02T08:00:00.000Z","data":{"email":"ada@example.com"}}',
  '{"type":"end","collections":1,"records":1}',
].join('\n');

const Delivery = Type.Object({
  destination: Type.String({ maxLength: 2048, description: 'An http(s) URL on the egress allowlist (TRESOR_EGRESS_ALLOW); the sealed export is POSTed to it.' }),
  recipientKey: Type.String({ maxLength: 1024, description: 'The tenant\'s X25519 public key, PEM SPKI; only its private key opens the export (`tresor tenant decrypt-export`).' }),
}, { additionalProperties: false, description: 'Optional: send the export, sealed to `recipientKey`, to `destination` instead of streaming it back.' });

const Delivered = Type.Object({
  destination: Type.String({ description: 'The destination\'s origin' }),
  bytes: Type.Integer({ description: 'Bytes sent (sealed)' }),
  records: Type.Integer(), collections: Type.Integer(),
  status: Type.Integer({ description: 'The destination\'s HTTP status' }),
});

export function tenantExportRoutes(app: App, { tenantExport, exportDelivery }: { tenantExport: TenantExport; exportDelivery: ExportDelivery }) {
  app.post('/v1/tenants/:tenantId/export', {
    validatorCompiler: compileValidatorOptionalBody,
    config: { ...access.tenant('tenant.export'), problems: ['tenant.not_found', 'export.invalid_recipient_key', 'transfer.destination_not_allowed', 'transfer.outside_eea', 'transfer.address_forbidden', 'transfer.redirect_refused', 'transfer.failed'] },
    schema: { operationId: 'exportTenant', summary: 'Export every record of the tenant (NDJSON stream)', tags: ['tenants'], security: bearer, params: TenantParams, body: Type.Optional(Delivery),
      description: 'Streams an `export` line (tenant, counts at the start), one `collection` line per collection (fields with type and classification), its `record` lines (decrypted, unmasked), '
        + 'and a last `end` line with the counts; a stream without `end` was cut off. Read a page at a time (`TRESOR_EXPORT_PAGE`), so memory stays bounded; '
        + 'not a snapshot. Audited as `tenant.export` (start) and `tenant.export.end` (counts, complete or not), never values. '
        + 'With a body `{destination, recipientKey}` the stream is instead sealed to the X25519 key (ephemeral X25519, HKDF-SHA256, AES-256-GCM: a JSON header line, '
        + 'the ciphertext, the 16-byte tag) and POSTed through egress (allowlist, EU/EEA, transfer log); the answer is a JSON summary.',
      produces: ['application/x-ndjson'],
      response: { 200: { description: 'NDJSON, one JSON object per line; with a destination, the JSON summary of the transfer', content: { 'application/x-ndjson': { schema: Type.String({ examples: [example] }) }, 'application/json': { schema: Delivered } } }, ...errorResponses } },
  }, async (req, reply) => {
    if (req.body) return reply.type('application/json').send(await exportDelivery.deliver(req.actor, req.params.tenantId, req.body));
    const stream = await tenantExport.open(req.actor, req.params.tenantId);
    return reply.type('application/x-ndjson').header('cache-control', 'no-store').send(Readable.from(stream, { objectMode: false }) as unknown as string);
  });
}
