import { Type } from 'typebox';
import type { App } from '../http/app-types.ts';
import { access } from '../http/access.ts';
import { RequestError } from '../errors.ts';
import { CollectionParams, Page, PageQuery, RecordParams, Timestamp, Uuid, bearer, errorResponses } from '../http/schemas.ts';
import type { RecordsService } from './records-service.ts';

const Data = Type.Record(Type.String(), Type.Unknown(), { examples: [{ email: 'ada@example.com', name: 'Ada Lovelace', tier: 'gold' }] });
const Pseudonyms = Type.Record(Type.String(), Type.String(), { description: 'collections with pseudonymize fields only: the keyed pseudonym of each such field\'s value (stable per tenant and purpose; re-identified only through resolvePseudonym)' });
const RecordOut = Type.Object({ id: Uuid, version: Type.Integer(), createdAt: Timestamp, updatedAt: Timestamp, data: Data, pseudonyms: Type.Optional(Pseudonyms) }, { title: 'Record' });
const RecordPage = Page(RecordOut, 'RecordPage');
const DataBody = Type.Object({ data: Data }, { additionalProperties: false });
const records = '/v1/tenants/:tenantId/collections/:name/records';

function ifMatch(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(header);
  if (!m) throw new RequestError('request.invalid_if_match');
  return Number(m[1]);
}

export function recordsRoutes(app: App, { records: svc }: { records: RecordsService }) {
  app.post(records, {
    config: { ...access.tenant('records.write'), problems: ['collection.not_found', 'record.validation_failed', 'payment.card_data_rejected', 'record.unique_violation'] },
    schema: { operationId: 'createRecord', summary: 'Create a record', tags: ['records'], security: bearer, params: CollectionParams, body: DataBody,
      description: 'Validates `data` against the collection\'s fields, encrypts it and stores it as version 1.', response: { 201: RecordOut, ...errorResponses } },
  }, async (req, reply) => reply.code(201).send(await svc.create(req.actor, req.params.tenantId, req.params.name, req.body.data)));

  app.get(records, {
    config: { ...access.tenant('records.read'), problems: ['collection.not_found'] },
    schema: { operationId: 'listRecords', summary: 'List records', tags: ['records'], security: bearer, params: CollectionParams, querystring: PageQuery,
      description: 'Records a page at a time; pass `nextCursor` back as `cursor`.',
      response: { 200: RecordPage, ...errorResponses } },
  }, async (req) => svc.list(req.actor, req.params.tenantId, req.params.name, req.query));

  app.post(`${records}/search`, {
    config: { ...access.tenant('records.read'), problems: ['collection.not_found', 'record.search_invalid'] },
    schema: { operationId: 'searchRecords', summary: 'Search records by exact field values', tags: ['records'], security: bearer, params: CollectionParams,
      description: 'Finds records whose searchable or unique fields equal every value in `where` (matched by blind index: values never reach the database in clear).',
      body: Type.Object({
        where: Type.Record(Type.String(), Type.Unknown(), { propertyNames: { pattern: '^[a-z][a-z0-9_]{0,62}$' }, minProperties: 1, maxProperties: 20, examples: [{ email: 'ada@example.com' }] }),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
        cursor: Type.Optional(Type.String({ maxLength: 200 })),
      }, { additionalProperties: false }),
      response: { 200: RecordPage, ...errorResponses } },
  }, async (req) => svc.search(req.actor, req.params.tenantId, req.params.name, req.body.where, { limit: req.body.limit, cursor: req.body.cursor }));

  app.get(`${records}/:id`, {
    config: { ...access.tenant('records.read'), problems: ['collection.not_found', 'record.not_found'] },
    schema: { operationId: 'getRecord', summary: 'Read a record', tags: ['records'], security: bearer, params: RecordParams,
      description: 'The record, decrypted; its version is also sent as the ETag for a later If-Match.', response: { 200: RecordOut, ...errorResponses } },
  }, async (req, reply) => {
    const record = await svc.get(req.actor, req.params.tenantId, req.params.name, req.params.id);
    return reply.header('etag', `"${record.version}"`).send(record);
  });

  app.patch(`${records}/:id`, {
    config: { ...access.tenant('records.write'),
      problems: ['collection.not_found', 'record.not_found', 'request.invalid_if_match', 'record.validation_failed', 'payment.card_data_rejected', 'record.unique_violation', 'record.version_mismatch'] },
    schema: { operationId: 'updateRecord', summary: 'Update fields of a record', tags: ['records'], security: bearer, params: RecordParams, body: DataBody,
      description: 'Merges `data` into the record and bumps its version; with If-Match, only if the record is still at that version.',
      headers: Type.Object({ 'if-match': Type.Optional(Type.String({ maxLength: 40 })) }),
      response: { 200: RecordOut, ...errorResponses } },
  }, async (req, reply) => {
    const version = ifMatch(req.headers['if-match']);
    const record = await svc.update(req.actor, req.params.tenantId, req.params.name, req.params.id, req.body.data, version);
    return reply.header('etag', `"${record.version}"`).send(record);
  });

  app.delete(`${records}/:id`, {
    config: { ...access.tenant('records.write'), problems: ['collection.not_found', 'record.not_found'] },
    schema: { operationId: 'deleteRecord', summary: 'Delete a record', tags: ['records'], security: bearer, params: RecordParams,
      description: 'Deletes the record and its search index entries.', response: { 204: Type.Null(), ...errorResponses } },
  }, async (req, reply) => {
    await svc.remove(req.actor, req.params.tenantId, req.params.name, req.params.id);
    return reply.code(204).send(null);
  });
}
