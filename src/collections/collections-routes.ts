import { Type } from 'typebox';
import type { App } from '../http/app-types.ts';
import { access } from '../http/access.ts';
import { CollectionParams, TenantParams, Timestamp, Uuid, bearer, errorResponses } from '../http/schemas.ts';
import type { CollectionsService } from './collections-service.ts';
import { CLASSIFICATIONS, FIELD_TYPES, MASKS } from './collection-definition.ts';

// The field definitions are checked by parseCollectionDefinition, which reports
// every problem at once with stable codes; the schema only fixes the outline.
const FieldIn = Type.Record(Type.String(), Type.Unknown());
const FieldOut = Type.Object({
  name: Type.String(), type: Type.Enum(FIELD_TYPES), required: Type.Boolean(), maxLength: Type.Optional(Type.Integer()),
  searchable: Type.Boolean(), unique: Type.Boolean(), classification: Type.Enum(CLASSIFICATIONS), mask: Type.Optional(Type.Enum(MASKS)),
}, { title: 'FieldDefinition' });
const Collection = Type.Object({ id: Uuid, name: Type.String(), fields: Type.Array(FieldOut), createdAt: Timestamp }, { title: 'Collection' });

export function collectionsRoutes(app: App, { collections }: { collections: CollectionsService }) {
  app.post('/v1/tenants/:tenantId/collections', {
    config: { ...access.tenant('collections.create'), problems: ['collection.invalid_definition', 'collection.already_exists'] },
    schema: { operationId: 'createCollection', summary: 'Create a collection', tags: ['collections'], security: bearer, params: TenantParams,
      description: 'Defines a collection and its fields; every problem of a definition is reported at once under `problems`.',
      body: Type.Object({ name: Type.String({ maxLength: 200 }), fields: Type.Array(FieldIn, { maxItems: 1000 }) }, { additionalProperties: false }),
      response: { 201: Collection, ...errorResponses } },
  }, async (req, reply) => reply.code(201).send(await collections.create(req.actor, req.params.tenantId, req.body)));

  app.get('/v1/tenants/:tenantId/collections', {
    config: access.tenant('collections.read'),
    schema: { operationId: 'listCollections', summary: "List a tenant's collections", tags: ['collections'], security: bearer, params: TenantParams,
      description: 'Every collection of the tenant with its field definitions.',
      response: { 200: Type.Object({ items: Type.Array(Collection) }), ...errorResponses } },
  }, async (req) => ({ items: await collections.list(req.actor, req.params.tenantId) }));

  app.get('/v1/tenants/:tenantId/collections/:name', {
    config: { ...access.tenant('collections.read'), problems: ['collection.not_found'] },
    schema: { operationId: 'getCollection', summary: 'Read a collection', tags: ['collections'], security: bearer, params: CollectionParams,
      description: 'The collection with its field definitions.', response: { 200: Collection, ...errorResponses } },
  }, async (req) => collections.get(req.actor, req.params.tenantId, req.params.name));
}
