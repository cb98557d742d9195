import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { backends } from '../helpers/backends.ts';
import { startTestApp, type TestApp } from '../helpers/test-app.ts';
import { permissions } from '../../src/access/permissions.ts';
import { errorCatalogue } from '../../src/errors.ts';

type Operation = {
  operationId?: string; summary?: string; description?: string; tags?: string[]; security?: unknown[];
  'x-required-roles'?: string[]; responses: Record<string, { content?: Record<string, { schema: { properties?: { code?: { enum?: string[] } } } }> }>;
};
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

for (const backend of backends) {
  describe(`OpenAPI document [${backend}]`, () => {
    let t: TestApp;
    let doc: { openapi: string; info: { license?: { identifier?: string } }; servers?: { url: string }[]; tags: { name: string; description?: string }[];
      paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, { properties?: Record<string, { enum?: string[] }> }> } };
    const operations = () => Object.entries(doc.paths).flatMap(([path, item]) =>
      METHODS.filter((m) => item[m]).map((m) => ({ where: `${m.toUpperCase()} ${path}`, op: item[m] })));

    before(async () => {
      t = await startTestApp(backend, { env: { TRESOR_LIST_MAX_LIMIT: '321', TRESOR_MAX_FIELDS: '42', PORT: '9443' } });
      doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    });
    after(async () => t.close());

    it('has no errors under Redocly\'s recommended rules', async () => {
      const config = await createConfig({ extends: ['recommended'] });
      const problems = await lintFromString({ source: JSON.stringify(doc), absoluteRef: 'openapi.json', config });
      const errors = problems.filter((p) => p.severity === 'error');
      assert.deepEqual(errors.map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`), []);
      const badExamples = problems.filter((p) => p.ruleId === 'no-invalid-media-type-examples');
      assert.deepEqual(badExamples.map((p) => `${p.message} at ${p.location[0]?.pointer}`), [], 'every example matches its schema');
      assert.equal(doc.openapi, '3.1.0');
    });

    it('names the configured server, the licence and described tags', () => {
      assert.deepEqual(doc.servers?.map((s) => s.url), ['http://127.0.0.1:9443']);
      assert.equal(doc.info.license?.identifier, 'Apache-2.0');
      assert.equal(JSON.parse(readFileSync('package.json', 'utf8')).license, 'Apache-2.0');
      assert.match(readFileSync('LICENSE', 'utf8'), /^\s*Apache License\s+Version 2\.0, January 2004[\s\S]*9\. Accepting Warranty or Additional Liability[\s\S]*END OF TERMS AND CONDITIONS/);
      for (const tag of doc.tags) assert.ok(tag.description, `tag ${tag.name} is described`);
    });

    it('gives every operation an id, summary, description, declared tag, its roles and security', () => {
      const tagNames = new Set(doc.tags.map((tag) => tag.name));
      const ids = new Set<string>();
      for (const { where, op } of operations()) {
        assert.ok(op.operationId && op.summary && op.description, `${where} has operationId, summary, description`);
        assert.ok(!ids.has(op.operationId), `${where}: operationId is unique`);
        ids.add(op.operationId);
        assert.ok(op.tags?.length && op.tags.every((tag) => tagNames.has(tag)), `${where} has a declared tag`);
        const roles = op['x-required-roles'];
        if (roles) {
          assert.ok(Object.values(permissions).some((r) => JSON.stringify(r) === JSON.stringify(roles)), `${where}: roles from the matrix`);
          assert.match(op.description!, new RegExp(`Roles: ${roles.join(', ')}\\.`));
          // API keys and sessions, or sessions only (a user's own session routes).
          assert.ok([JSON.stringify([{ bearer: [] }, { session: [] }]), JSON.stringify([{ session: [] }])].includes(JSON.stringify(op.security)), `${where}: security`);
        } else {
          assert.deepEqual(op.security, [], `${where} is public: security []`);
        }
      }
      assert.equal(doc.paths['/v1/tenants/{tenantId}/collections/{name}/records']?.post['x-required-roles']?.join(), 'owner,admin,editor');
    });

    it('types every error response application/problem+json, its code an enum of codes of that status', () => {
      for (const { where, op } of operations()) {
        for (const [status, response] of Object.entries(op.responses)) {
          if (!/^[45]/.test(status)) continue;
          assert.match(status, /^\d{3}$/, `${where}: no ${status} range`);
          assert.deepEqual(Object.keys(response.content ?? {}), ['application/problem+json'], `${where} ${status}`);
          const codes = response.content!['application/problem+json'].schema.properties?.code?.enum ?? [];
          assert.ok(codes.length > 0, `${where} ${status} lists its codes`);
          for (const code of codes) assert.equal(errorCatalogue[code as keyof typeof errorCatalogue]?.status, Number(status), `${where}: ${code}`);
        }
      }
      const update = doc.paths['/v1/tenants/{tenantId}/collections/{name}/records/{id}'].patch.responses;
      assert.ok(update['412'] && update['404'] && update['409'] && update['422'] && update['401'] && update['403']);
    });

    it('gives every operation an example request body and an example of every response with content', () => {
      type Media = Record<string, { example?: unknown }>;
      for (const { where, op } of operations()) {
        const body = (op as unknown as { requestBody?: { content: Media } }).requestBody;
        for (const [type, media] of Object.entries(body?.content ?? {})) assert.ok(media.example !== undefined, `${where} request ${type}`);
        for (const [status, response] of Object.entries(op.responses)) {
          for (const [type, media] of Object.entries((response.content ?? {}) as Media)) assert.ok(media.example !== undefined, `${where} ${status} ${type}`);
        }
      }
      const conflict = doc.paths['/v1/tenants/{tenantId}/collections'].post.responses['409'].content!['application/problem+json'] as unknown as { example: Record<string, unknown> };
      assert.deepEqual(conflict.example, { type: '/problems/collection.already_exists', title: errorCatalogue['collection.already_exists'].title, status: 409,
        code: 'collection.already_exists', detail: errorCatalogue['collection.already_exists'].title, requestId: conflict.example.requestId });
    });

    it('names the shared shapes, with the field enums of collection definitions', () => {
      for (const name of ['Record', 'RecordPage', 'Collection', 'FieldDefinition', 'Problem', 'Tenant']) assert.ok(doc.components.schemas[name], name);
      const field = doc.components.schemas.FieldDefinition.properties!;
      assert.deepEqual(field.type.enum, ['string', 'email', 'phone', 'date', 'number', 'boolean', 'json', 'payment_event']);
      assert.deepEqual(field.classification.enum, ['personal', 'special', 'none']);
      assert.deepEqual(field.mask.enum, ['none', 'partial', 'full']);
    });

    it('documents the list limit the server enforces (TRESOR_LIST_MAX_LIMIT)', () => {
      const records = '/v1/tenants/{tenantId}/collections/{name}/records';
      const query = (doc.paths[records].get as unknown as { parameters: { name: string; schema: { maximum: number } }[] }).parameters;
      assert.equal(query.find((p) => p.name === 'limit')?.schema.maximum, 321);
      const search = doc.paths[`${records}/search`].post as unknown as { requestBody: { content: Record<string, { schema: { properties: { limit: { maximum: number } } } }> } };
      assert.equal(search.requestBody.content['application/json'].schema.properties.limit.maximum, 321);
    });

    it('documents a collection definition in full, with the field count from TRESOR_MAX_FIELDS', () => {
      const create = doc.paths['/v1/tenants/{tenantId}/collections'].post as unknown as { requestBody: { content: Record<string, { schema: { $ref: string } }> } };
      assert.equal(create.requestBody.content['application/json'].schema.$ref, '#/components/schemas/CollectionDefinition');
      const definition = doc.components.schemas.CollectionDefinition as unknown as { properties: { fields: { maxItems: number; items: { $ref: string } } } };
      assert.equal(definition.properties.fields.maxItems, 42);
      assert.equal(definition.properties.fields.items.$ref, '#/components/schemas/FieldDefinitionInput');
      const input = doc.components.schemas.FieldDefinitionInput.properties!;
      assert.deepEqual(input.classification.enum, ['personal', 'special', 'none']);
    });
  });
}
