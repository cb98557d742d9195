import { Readable } from 'node:stream';
import { Type } from 'typebox';
import type { App } from '../http/app-types.ts';
import { access } from '../http/access.ts';
import { TenantParams, bearer, errorResponses } from '../http/schemas.ts';
import type { TenantExport } from './tenant-export.ts';

const example = [
  '{"type":"export","tenantId":"0193a1c2-7d4e-7f00-8000-0000000000aa","startedAt":"2026-12-02T08:00:00.000Z","collections":1,"records":1}',
  '{"type":"collection","name":"customers","fields":[{"name":"email","type":"email","classification":"personal"}]}',
  '{"type":"record","collection":"customers","id":"0193a1c2-7d4e-7f00-8000-000000000001","version":1,"createdAt":"2026-12-02T08:00:00.000Z","updatedAt":"2026-12-02T08:00:00.000Z","data":{"email":"ada@example.com"}}',
  '{"type":"end","collections":1,"records":1}',
].join('\n');

export function tenantExportRoutes(app: App, { tenantExport }: { tenantExport: TenantExport }) {
  app.post('/v1/tenants/:tenantId/export', {
    config: { ...access.tenant('tenant.export'), problems: ['tenant.not_found'] },
    schema: { operationId: 'exportTenant', summary: 'Export every record of the tenant (NDJSON stream)', tags: ['tenants'], security: bearer, params: TenantParams,
      description: 'Streams an `export` line (tenant, counts at the start), one `collection` line per collection (fields with type and classification), its `record` lines (decrypted, unmasked), '
        + 'and a last `end` line with the counts; a stream without `end` was cut off. Read a page at a time (`TRESOR_EXPORT_PAGE`), so memory stays bounded; '
        + 'not a snapshot. Audited as `tenant.export` (start) and `tenant.export.end` (counts, complete or not), never values.',
      produces: ['application/x-ndjson'],
      response: { 200: { description: 'NDJSON, one JSON object per line', content: { 'application/x-ndjson': { schema: Type.String({ examples: [example] }) } } }, ...errorResponses } },
  }, async (req, reply) => {
    const stream = await tenantExport.open(req.actor, req.params.tenantId);
    return reply.type('application/x-ndjson').header('cache-control', 'no-store').send(Readable.from(stream, { objectMode: false }) as unknown as string);
  });
}
