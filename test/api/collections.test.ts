import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { assertProblem } from '../helpers/problem.ts';
import { customersCollection, seedTenant, startTestApp, type TestApp } from '../helpers/test-app.ts';


const contacts = {
  name: 'contacts',
  fields: [
    { name: 'email', type: 'email', unique: true },
    { name: 'nickname', type: 'string', required: true, maxLength: 40, mask: 'partial' },
    { name: 'score', type: 'number', searchable: true, classification: 'none' },
  ],
};

for (const backend of backends) {
  describe(`collections [${backend}]`, () => {
    let t: TestApp;
    before(async () => { t = await startTestApp(backend); });
    after(async () => t.close());

    const collectionsUrl = (tenantId: string) => `/v1/tenants/${tenantId}/collections`;
    const names = async (tenantId: string, token: string) => {
      const res = await t.call('GET', collectionsUrl(tenantId), { token });
      assert.equal(res.statusCode, 200, res.body);
      return res.json().items.map((c: { name: string }) => c.name);
    };

    it('creates a collection with defaults filled in, lists it and gets it by name', async () => {
      const { tenantId, adminKey } = await seedTenant(t, 'Collections');
      const res = await t.call('POST', collectionsUrl(tenantId), { token: adminKey, body: contacts });
      assert.equal(res.statusCode, 201, res.body);
      const created = res.json();
      assert.equal(created.name, 'contacts');
      assert.ok(!Number.isNaN(Date.parse(created.createdAt)));
      assert.deepEqual(created.fields, [
        { name: 'email', type: 'email', required: false, searchable: true, unique: true, classification: 'personal' },
        { name: 'nickname', type: 'string', required: true, maxLength: 40, searchable: false, unique: false, classification: 'personal', mask: 'partial' },
        { name: 'score', type: 'number', required: false, searchable: true, unique: false, classification: 'none' },
      ]);
      assert.deepEqual(await names(tenantId, adminKey), ['contacts', 'customers']);
      const got = await t.call('GET', `${collectionsUrl(tenantId)}/contacts`, { token: adminKey });
      assert.equal(got.statusCode, 200);
      assert.deepEqual(got.json(), created);
    });

    it('editor and viewer keys can read collections', async () => {
      for (const role of ['editor', 'viewer'] as const) {
        const { tenantId, key } = await seedTenant(t, `Reader ${role}`, role);
        assert.deepEqual(await names(tenantId, key), ['customers']);
        assert.equal((await t.call('GET', `${collectionsUrl(tenantId)}/customers`, { token: key })).statusCode, 200);
      }
    });

    it('a second collection with the same name answers 409 collection.already_exists', async () => {
      const { tenantId, adminKey } = await seedTenant(t, 'Duplicates');
      const before = (await t.call('GET', `${collectionsUrl(tenantId)}/customers`, { token: adminKey })).json();
      const other = { name: 'customers', fields: [{ name: 'note', type: 'string' }] };
      assertProblem(await t.call('POST', collectionsUrl(tenantId), { token: adminKey, body: other }), 409, 'collection.already_exists');
      const after = (await t.call('GET', `${collectionsUrl(tenantId)}/customers`, { token: adminKey })).json();
      assert.deepEqual(after, before, 'the existing definition is unchanged');
    });

    it('the same collection name is free in another tenant', async () => {
      const a = await seedTenant(t, 'Same Name A');
      const b = await seedTenant(t, 'Same Name B');
      for (const s of [a, b]) assert.deepEqual(await names(s.tenantId, s.adminKey), ['customers']);
    });

    it('an invalid definition answers 422 with every problem listed, and nothing is created', async () => {
      const { tenantId, adminKey } = await seedTenant(t, 'Invalid Definitions');
      const body = {
        name: 'broken',
        fields: [
          { name: 'Bad-Name', type: 'string' },
          { name: 'kind', type: 'colour' },
          { name: 'dup', type: 'string' },
          { name: 'dup', type: 'number' },
          { name: 'extra', type: 'string', encrypted: true },
          { name: 'blob', type: 'json', searchable: true },
        ],
      };
      const problem = assertProblem(await t.call('POST', collectionsUrl(tenantId), { token: adminKey, body }), 422, 'collection.invalid_definition');
      const found = problem.problems.map((p: { path: string; code: string }) => `${p.code} ${p.path}`).sort();
      assert.deepEqual(found, [
        'collection.duplicate_field /fields/3/name',
        'collection.field_not_indexable /fields/5/searchable',
        'collection.invalid_field_name /fields/0/name',
        'collection.invalid_type /fields/1/type',
        'collection.unknown_option /fields/4/encrypted',
      ]);
      for (const p of problem.problems) assert.equal(typeof p.detail, 'string');
      assert.ok(!problem.detail.includes('Bad-Name') && !problem.detail.includes('colour'), 'offending input is not echoed');
      assert.deepEqual(await names(tenantId, adminKey), ['customers']);
      assertProblem(await t.call('GET', `${collectionsUrl(tenantId)}/broken`, { token: adminKey }), 404, 'collection.not_found');
    });

    it('unique on a json field and an empty field list are invalid definitions', async () => {
      const { tenantId, adminKey } = await seedTenant(t, 'More Invalid');
      const uniqueJson = { name: 'docs', fields: [{ name: 'doc', type: 'json', unique: true }] };
      const p1 = assertProblem(await t.call('POST', collectionsUrl(tenantId), { token: adminKey, body: uniqueJson }), 422, 'collection.invalid_definition');
      assert.ok(p1.problems.some((p: { code: string }) => p.code === 'collection.field_not_indexable'));
      const empty = { name: 'empty', fields: [] };
      const p2 = assertProblem(await t.call('POST', collectionsUrl(tenantId), { token: adminKey, body: empty }), 422, 'collection.invalid_definition');
      assert.deepEqual(p2.problems.map((p: { code: string }) => p.code), ['collection.no_fields']);
      assert.deepEqual(await names(tenantId, adminKey), ['customers']);
    });

    it('an unknown top-level property answers 400 request.validation_failed', async () => {
      const { tenantId, adminKey } = await seedTenant(t, 'Top Level');
      const body = { ...contacts, retention: '13 months' };
      const problem = assertProblem(await t.call('POST', collectionsUrl(tenantId), { token: adminKey, body }), 400, 'request.validation_failed');
      assert.deepEqual(problem.problems.map((p: { code: string; path: string }) => [p.code, p.path]), [['request.unknown_property', 'body/retention']]);
      assert.deepEqual(await names(tenantId, adminKey), ['customers']);
    });

    it('a viewer or editor cannot create a collection (403 auth.forbidden)', async () => {
      for (const role of ['viewer', 'editor'] as const) {
        const { tenantId, key, adminKey } = await seedTenant(t, `No Create ${role}`, role);
        assertProblem(await t.call('POST', collectionsUrl(tenantId), { token: key, body: contacts }), 403, 'auth.forbidden');
        assert.deepEqual(await names(tenantId, adminKey), ['customers']);
      }
    });

    it("another tenant's collections answer 404 tenant.not_found", async () => {
      const a = await seedTenant(t, 'Owner A');
      const b = await seedTenant(t, 'Intruder B');
      assertProblem(await t.call('GET', collectionsUrl(a.tenantId), { token: b.adminKey }), 404, 'tenant.not_found');
      assertProblem(await t.call('GET', `${collectionsUrl(a.tenantId)}/customers`, { token: b.adminKey }), 404, 'tenant.not_found');
      assertProblem(await t.call('POST', collectionsUrl(a.tenantId), { token: b.adminKey, body: contacts }), 404, 'tenant.not_found');
      assert.deepEqual(await names(a.tenantId, a.adminKey), ['customers'], 'nothing was created in tenant A');
      assert.deepEqual(await names(b.tenantId, b.adminKey), ['customers'], 'nor in tenant B');
    });

    it('an unknown collection answers 404 collection.not_found', async () => {
      const { tenantId, key } = await seedTenant(t, 'Unknown Collection');
      assertProblem(await t.call('GET', `${collectionsUrl(tenantId)}/nope`, { token: key }), 404, 'collection.not_found');
      assertProblem(await t.call('GET', `${collectionsUrl(tenantId)}/nope/records`, { token: key }), 404, 'collection.not_found');
      const write = await t.call('POST', `${collectionsUrl(tenantId)}/nope/records`, { token: key, body: { data: { name: 'x' } } });
      assertProblem(write, 404, 'collection.not_found');
    });

    it('a collection name outside the name pattern in the URL answers 400', async () => {
      const { tenantId, key } = await seedTenant(t, 'Bad URL Name');
      assertProblem(await t.call('GET', `${collectionsUrl(tenantId)}/Not-A-Name`, { token: key }), 400, 'request.validation_failed');
    });

    it('the seeded definition round-trips unchanged', async () => {
      const { tenantId, key } = await seedTenant(t, 'Round Trip');
      const got = (await t.call('GET', `${collectionsUrl(tenantId)}/customers`, { token: key })).json();
      assert.deepEqual(got.fields.map((f: { name: string }) => f.name), customersCollection.fields.map((f) => f.name));
      const email = got.fields.find((f: { name: string }) => f.name === 'email');
      assert.equal(email.searchable, true, 'unique implies searchable');
    });
  });
}
