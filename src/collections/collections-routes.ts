import { Type } from 'typebox';
import type { App } from '../http/app-types.ts';
import { access } from '../http/access.ts';
import { CollectionParams, Name, StringEnum, TenantParams, Timestamp, Uuid, bearer, errorResponses } from '../http/schemas.ts';
import { DOCUMENTED_AS } from '../http/openapi.ts';
import type { CollectionsService } from './collections-service.ts';
import { CLASSIFICATIONS, FIELD_TYPES, MASKS, NAME_PATTERN, type DefinitionLimits } from './collection-definition.ts';

// The field definitions are checked by parseCollectionDefinition, which reports
// every problem at once with stable codes (422); the schema only fixes the
// outline, and the document shows the definition's full shape and limits.
const FieldIn = Type.Record(Type.String(), Type.Unknown());
const Purposes = Type.Array(Name, { maxItems: 20, uniqueItems: true,
  description: 'ids of purposes in the tenant\'s instruction that this collection\'s data serves; with a confirmed instruction, records are processed only for a covered purpose' });
const definitionDoc = ({ maxFields, maxLengthCap, defaultMaxLength }: DefinitionLimits) => Type.Object({
  name: Type.String({ pattern: NAME_PATTERN.source, examples: ['customers'] }),
  purposes: Type.Optional(Purposes),
  fields: Type.Array(Type.Object({
    name: Name,
    type: StringEnum(FIELD_TYPES),
    // Defaults are stated in words: a `default` would make generated clients require the option.
    required: Type.Optional(Type.Boolean({ description: 'default false' })),
    maxLength: Type.Optional(Type.Integer({ minimum: 1, maximum: maxLengthCap,
      description: `string, email and phone only; at most TRESOR_MAX_LENGTH_CAP, default ${defaultMaxLength} (TRESOR_DEFAULT_MAX_LENGTH)` })),
    searchable: Type.Optional(Type.Boolean({ description: 'exact-match search by blind index; not for boolean or json; default false' })),
    unique: Type.Optional(Type.Boolean({ description: 'implies searchable; not for boolean or json; default false' })),
    classification: Type.Optional(StringEnum(CLASSIFICATIONS, { description: 'default personal' })),
    mask: Type.Optional(StringEnum(MASKS)),
    pseudonymize: Type.Optional(Type.Boolean({ description: 'answer a keyed pseudonym of the value under `pseudonyms` (joinable, re-identified only by pseudonym.resolve); not for boolean or json; default false' })),
    pseudonymPurpose: Type.Optional(Type.String({ pattern: NAME_PATTERN.source, description: 'with pseudonymize: the purpose the pseudonym is stable for (same value and purpose, same pseudonym across collections); default the field\'s name' })),
  }, { additionalProperties: false, title: 'FieldDefinitionInput' }), { minItems: 1, maxItems: maxFields, description: 'at most TRESOR_MAX_FIELDS fields',
    examples: [[{ name: 'email', type: 'email', unique: true }, { name: 'name', type: 'string', required: true, maxLength: 100 }, { name: 'tier', type: 'string', classification: 'none' }]] }),
}, { additionalProperties: false, title: 'CollectionDefinition' });
const FieldOut = Type.Object({
  name: Type.String(), type: StringEnum(FIELD_TYPES), required: Type.Boolean(), maxLength: Type.Optional(Type.Integer()),
  searchable: Type.Boolean(), unique: Type.Boolean(), classification: StringEnum(CLASSIFICATIONS), mask: Type.Optional(StringEnum(MASKS)),
  pseudonymize: Type.Optional(Type.Boolean()), pseudonymPurpose: Type.Optional(Type.String()),
}, { title: 'FieldDefinition' });
const Collection = Type.Object({ id: Uuid, name: Type.String(), fields: Type.Array(FieldOut), purposes: Type.Array(Type.String()), createdAt: Timestamp }, { title: 'Collection' });

export function collectionsRoutes(app: App, { collections, limits }: { collections: CollectionsService; limits: DefinitionLimits }) {
  app.post('/v1/tenants/:tenantId/collections', {
    config: { ...access.tenant('collections.create'), problems: ['collection.invalid_definition', 'collection.already_exists'] },
    schema: { operationId: 'createCollection', summary: 'Create a collection', tags: ['collections'], security: bearer, params: TenantParams,
      description: 'Defines a collection and its fields; every problem of a definition is reported at once under `problems`.',
      body: Type.Object({ name: Type.String({ maxLength: 200 }), fields: Type.Array(FieldIn, { maxItems: 1000 }), purposes: Type.Optional(Purposes) },
        { additionalProperties: false, [DOCUMENTED_AS]: definitionDoc(limits) }),
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
