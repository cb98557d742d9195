import { Type } from 'typebox';
import type { Readable } from 'node:stream';
import type { App } from '../http/app-types.ts';
import { access } from '../http/access.ts';
import { RequestError } from '../errors.ts';
import { CollectionParams, bearer, errorResponses } from '../http/schemas.ts';
import { compileValidatorExceptBody } from '../http/validator.ts';
import type { ImportService } from './import-service.ts';
import { ndjsonLines } from './ndjson-lines.ts';

export function importRoutes(app: App, { imports, importLimitBytes, importLineMaxBytes }: { imports: ImportService; importLimitBytes: number; importLineMaxBytes: number }) {
  // Its own scope: only NDJSON is accepted here, and it arrives as a stream
  // (never buffered whole) under its own size limit instead of the JSON one.
  app.register(async (plain) => {
    const scope = plain as unknown as App;
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('application/x-ndjson', (_req, payload, done) => done(null, payload));
    scope.post('/v1/tenants/:tenantId/collections/:name/records/import', {
      config: { ...access.tenant('records.write'), streamedBody: true, problems: ['collection.not_found'] },
      schema: { operationId: 'importRecords', summary: 'Import records from NDJSON', tags: ['records'], security: bearer, params: CollectionParams,
        description: 'Streams one record per line; lines that fail are reported by line number and code (never their values), the rest imported.',
        consumes: ['application/x-ndjson'],
        // Documents the stream for OpenAPI; lines are validated one by one as they arrive.
        body: Type.String({ description: 'NDJSON: one {"data": {...}} object per line, validated line by line',
          examples: ['{"data":{"email":"ada@example.com","name":"Ada Lovelace"}}\n{"data":{"email":"alan@example.com","name":"Alan Turing"}}\n'] }),
        response: { 200: Type.Object({
          imported: Type.Integer(), rejectedCount: Type.Integer(),
          rejected: Type.Array(Type.Object({ line: Type.Integer(), code: Type.String(), field: Type.Optional(Type.String()) })),
        }), ...errorResponses } },
      validatorCompiler: compileValidatorExceptBody,
    }, async (req) => {
      const length = Number(req.headers['content-length'] ?? 0);
      if (length > importLimitBytes) throw new RequestError('request.body_too_large', `Imports are limited to ${importLimitBytes} bytes`);
      const lines = ndjsonLines(req.body as unknown as Readable, { maxLineBytes: importLineMaxBytes, maxTotalBytes: importLimitBytes });
      return imports.run(req.actor, req.params.tenantId, req.params.name, lines);
    });
  });
}
