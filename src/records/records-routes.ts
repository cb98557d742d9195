import { Type } from 'typebox';
import type { App } from '../http/app-types.ts';
import { access } from '../http/access.ts';
import { RequestError } from '../errors.ts';
import { CollectionParams, PageQuery, RecordParams, Timestamp, Uuid, bearer, errorResponses } from '../http/schemas.ts';
import type { RecordsService } from './records-service.ts';

const Data = Type.Record(Type.String(), Type.Unknown());
const RecordOut = Type.Object({ id: Uuid, version: Type.Integer(), createdAt: Timestamp, updatedAt: Timestamp, data: Data });
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
    config: access.tenant('records.write'),
    schema: { tags: ['records'], security: bearer, params: CollectionParams, body: DataBody, response: { 201: RecordOut, ...errorResponses } },
  }, async (req, reply) => reply.code(201).send(await svc.create(req.actor, req.params.tenantId, req.params.name, req.body.data)));

  app.get(records, {
    config: access.tenant('records.read'),
    schema: { tags: ['records'], security: bearer, params: CollectionParams, querystring: PageQuery,
      response: { 200: Type.Object({ items: Type.Array(RecordOut), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses } },
  }, async (req) => svc.list(req.actor, req.params.tenantId, req.params.name, req.query));

  app.post(`${records}/search`, {
    config: access.tenant('records.read'),
    schema: { tags: ['records'], security: bearer, params: CollectionParams,
      body: Type.Object({
        where: Type.Record(Type.String(), Type.Unknown(), { propertyNames: { pattern: '^[a-z][a-z0-9_]{0,62}$' }, minProperties: 1, maxProperties: 20 }),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
        cursor: Type.Optional(Type.String({ maxLength: 200 })),
      }, { additionalProperties: false }),
      response: { 200: Type.Object({ items: Type.Array(RecordOut), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses } },
  }, async (req) => svc.search(req.actor, req.params.tenantId, req.params.name, req.body.where, { limit: req.body.limit, cursor: req.body.cursor }));

  app.get(`${records}/:id`, {
    config: access.tenant('records.read'),
    schema: { tags: ['records'], security: bearer, params: RecordParams, response: { 200: RecordOut, ...errorResponses } },
  }, async (req, reply) => {
    const record = await svc.get(req.actor, req.params.tenantId, req.params.name, req.params.id);
    return reply.header('etag', `"${record.version}"`).send(record);
  });

  app.patch(`${records}/:id`, {
    config: access.tenant('records.write'),
    schema: { tags: ['records'], security: bearer, params: RecordParams, body: DataBody,
      headers: Type.Object({ 'if-match': Type.Optional(Type.String({ maxLength: 40 })) }),
      response: { 200: RecordOut, ...errorResponses } },
  }, async (req, reply) => {
    const version = ifMatch(req.headers['if-match']);
    const record = await svc.update(req.actor, req.params.tenantId, req.params.name, req.params.id, req.body.data, version);
    return reply.header('etag', `"${record.version}"`).send(record);
  });

  app.delete(`${records}/:id`, {
    config: access.tenant('records.write'),
    schema: { tags: ['records'], security: bearer, params: RecordParams, response: { 204: Type.Null(), ...errorResponses } },
  }, async (req, reply) => {
    await svc.remove(req.actor, req.params.tenantId, req.params.name, req.params.id);
    return reply.code(204).send(null);
  });
}
