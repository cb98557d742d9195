import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { assertProblem } from '../helpers/problem.ts';
import { seedTenant, startTestApp, type TestApp } from '../helpers/test-app.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;


for (const backend of backends) {
  describe(`records [${backend}]`, () => {
    let t: TestApp;
    before(async () => { t = await startTestApp(backend); });
    after(async () => t.close());

    const create = async (key: string, base: string, data: Record<string, unknown>) => {
      const res = await t.call('POST', base, { token: key, body: { data } });
      assert.equal(res.statusCode, 201, res.body);
      return res.json();
    };
    const search = (key: string, base: string, where: Record<string, unknown>) =>
      t.call('POST', `${base}/search`, { token: key, body: { where } });
    const found = async (key: string, base: string, where: Record<string, unknown>) => {
      const res = await search(key, base, where);
      assert.equal(res.statusCode, 200, res.body);
      return res.json().items.map((r: { id: string }) => r.id);
    };

    it('creates a record with normalised values and reads it back', async () => {
      const { key, base } = await seedTenant(t, 'Create');
      const res = await t.call('POST', base, {
        token: key,
        body: { data: { email: '  Ada.Lovelace@Example.COM ', name: 'Ada Lovelace', phone: '0044 20 7946 0958', birthdate: '1815-12-10', address: { city: 'London' }, tier: 'gold' } },
      });
      assert.equal(res.statusCode, 201, res.body);
      const rec = res.json();
      assert.deepEqual(Object.keys(rec).sort(), ['createdAt', 'data', 'id', 'updatedAt', 'version']);
      assert.match(rec.id, UUID);
      assert.equal(rec.version, 1);
      assert.equal(rec.createdAt, rec.updatedAt);
      assert.deepEqual(rec.data, {
        email: 'ada.lovelace@example.com', name: 'Ada Lovelace', phone: '+442079460958',
        birthdate: '1815-12-10', address: { city: 'London' }, tier: 'gold',
      });
      const got = await t.call('GET', `${base}/${rec.id}`, { token: key });
      assert.equal(got.statusCode, 200);
      assert.equal(got.headers.etag, '"1"');
      assert.deepEqual(got.json(), rec);
    });

    it('PATCH changes only the given fields, bumps the version, and null clears an optional field', async () => {
      const { key, base } = await seedTenant(t, 'Patch');
      const rec = await create(key, base, { email: 'grace@example.org', name: 'Grace', phone: '+1 212 555 0123', tier: 'silver' });
      const res = await t.call('PATCH', `${base}/${rec.id}`, { token: key, body: { data: { name: 'Grace Hopper', phone: null } } });
      assert.equal(res.statusCode, 200, res.body);
      const patched = res.json();
      assert.equal(patched.version, 2);
      assert.equal(patched.createdAt, rec.createdAt);
      assert.deepEqual(patched.data, { email: 'grace@example.org', name: 'Grace Hopper', tier: 'silver' });
      assert.deepEqual((await t.call('GET', `${base}/${rec.id}`, { token: key })).json(), patched);
      assert.deepEqual(await found(key, base, { phone: '+1 212 555 0123' }), [], 'a cleared field is no longer searchable');
      assert.deepEqual(await found(key, base, { email: 'grace@example.org' }), [rec.id]);
    });

    it('PATCH cannot clear a required field', async () => {
      const { key, base } = await seedTenant(t, 'Patch Required');
      const rec = await create(key, base, { name: 'Keep Me' });
      const problem = assertProblem(await t.call('PATCH', `${base}/${rec.id}`, { token: key, body: { data: { name: null } } }), 422, 'record.validation_failed');
      assert.deepEqual(problem.problems.map((p: { field: string; code: string }) => [p.field, p.code]), [['name', 'record.required_field']]);
      assert.deepEqual((await t.call('GET', `${base}/${rec.id}`, { token: key })).json(), rec);
    });

    it('If-Match: a matching version updates, a stale one answers 412 and changes nothing', async () => {
      const { key, base } = await seedTenant(t, 'If-Match');
      const rec = await create(key, base, { name: 'v1' });
      const ok = await t.call('PATCH', `${base}/${rec.id}`, { token: key, body: { data: { name: 'v2' } }, headers: { 'if-match': '"1"' } });
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal(ok.json().version, 2);
      assert.equal(ok.headers.etag, '"2"');
      const stale = await t.call('PATCH', `${base}/${rec.id}`, { token: key, body: { data: { name: 'lost update' } }, headers: { 'if-match': '1' } });
      assertProblem(stale, 412, 'record.version_mismatch');
      const now = (await t.call('GET', `${base}/${rec.id}`, { token: key })).json();
      assert.equal(now.version, 2);
      assert.equal(now.data.name, 'v2');
    });

    it('a malformed If-Match answers 400 request.invalid_if_match and changes nothing', async () => {
      const { key, base } = await seedTenant(t, 'Bad If-Match');
      const rec = await create(key, base, { name: 'same' });
      for (const value of ['abc', '*', '1, 2']) {
        const res = await t.call('PATCH', `${base}/${rec.id}`, { token: key, body: { data: { name: 'changed' } }, headers: { 'if-match': value } });
        assertProblem(res, 400, 'request.invalid_if_match');
      }
      assert.deepEqual((await t.call('GET', `${base}/${rec.id}`, { token: key })).json(), rec);
    });

    it('DELETE answers 204; the record is gone, unsearchable, and its unique value is free again', async () => {
      const { key, base } = await seedTenant(t, 'Delete');
      const rec = await create(key, base, { email: 'gone@example.org', name: 'Gone' });
      const del = await t.call('DELETE', `${base}/${rec.id}`, { token: key });
      assert.equal(del.statusCode, 204);
      assert.equal(del.body, '');
      assertProblem(await t.call('GET', `${base}/${rec.id}`, { token: key }), 404, 'record.not_found');
      assertProblem(await t.call('DELETE', `${base}/${rec.id}`, { token: key }), 404, 'record.not_found');
      assertProblem(await t.call('PATCH', `${base}/${rec.id}`, { token: key, body: { data: { name: 'x' } } }), 404, 'record.not_found');
      assert.deepEqual(await found(key, base, { email: 'gone@example.org' }), []);
      const again = await create(key, base, { email: 'GONE@example.org', name: 'Back' });
      assert.deepEqual(await found(key, base, { email: 'gone@example.org' }), [again.id]);
    });

    it('list with limit and cursor walks every record exactly once', async () => {
      const { key, base } = await seedTenant(t, 'List');
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) ids.push((await create(key, base, { name: `n${i}` })).id);
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const url: string = `${base}?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const res = await t.call('GET', url, { token: key });
        assert.equal(res.statusCode, 200, res.body);
        const page = res.json();
        assert.ok(page.items.length <= 3);
        seen.push(...page.items.map((r: { id: string }) => r.id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor && pages < 10);
      assert.equal(pages, 3);
      assert.equal(cursor, null);
      assert.deepEqual([...seen].sort(), [...ids].sort());
      assert.equal(new Set(seen).size, 7);
      assertProblem(await t.call('GET', `${base}?cursor=bogus`, { token: key }), 400, 'request.invalid_cursor');
    });

    it('search finds by unique e-mail and by phone, normalising the lookup like writes', async () => {
      const { key, base } = await seedTenant(t, 'Search');
      const a = await create(key, base, { email: 'alan@example.org', name: 'Alan', phone: '+44 20 7946 0001' });
      const b = await create(key, base, { email: 'barbara@example.org', name: 'Barbara', phone: '+44 20 7946 0002' });
      assert.deepEqual(await found(key, base, { email: ' ALAN@Example.org' }), [a.id]);
      assert.deepEqual(await found(key, base, { phone: '00442079460002' }), [b.id]);
      assert.deepEqual(await found(key, base, { phone: '+44 (20) 7946-0002' }), [b.id]);
      const hit = (await search(key, base, { email: 'barbara@example.org' })).json().items[0];
      assert.deepEqual(hit, b, 'search returns the full record');
      assert.deepEqual(await found(key, base, { email: 'nobody@example.org' }), []);
    });

    it('search on several fields matches all of them (AND)', async () => {
      const { key, base } = await seedTenant(t, 'Search AND');
      const a = await create(key, base, { email: 'c1@example.org', name: 'C1', phone: '+49 30 901820' });
      await create(key, base, { email: 'c2@example.org', name: 'C2', phone: '+49 30 901820' });
      assert.equal((await found(key, base, { phone: '+49 30 901820' })).length, 2);
      assert.deepEqual(await found(key, base, { phone: '+49 30 901820', email: 'c1@example.org' }), [a.id]);
      assert.deepEqual(await found(key, base, { phone: '+49 30 901821', email: 'c1@example.org' }), []);
    });

    it('search on a field that is not searchable answers 422 record.search_invalid', async () => {
      const { key, base } = await seedTenant(t, 'Search Invalid');
      await create(key, base, { name: 'Findable?' });
      const p = assertProblem(await search(key, base, { name: 'Findable?' }), 422, 'record.search_invalid');
      assert.deepEqual(p.problems.map((x: { field: string; code: string }) => [x.field, x.code]), [['name', 'record.field_not_searchable']]);
      assert.ok(!p.detail.includes('Findable?'), 'the lookup value is not echoed');
      const unknown = assertProblem(await search(key, base, { shoe_size: 42 }), 422, 'record.search_invalid');
      assert.equal(unknown.problems[0].code, 'record.unknown_field');
    });

    it('search with an empty where answers 400', async () => {
      const { key, base } = await seedTenant(t, 'Search Empty');
      assertProblem(await search(key, base, {}), 400, 'request.validation_failed');
      assertProblem(await t.call('POST', `${base}/search`, { token: key, body: {} }), 400, 'request.validation_failed');
    });

    it('a taken unique value answers 409 naming the field, never the value', async () => {
      const { key, base } = await seedTenant(t, 'Unique');
      const first = await create(key, base, { email: 'taken-9931@example.org', name: 'First' });
      const clash = await t.call('POST', base, { token: key, body: { data: { email: 'TAKEN-9931@example.org', name: 'Second' } } });
      const p = assertProblem(clash, 409, 'record.unique_violation');
      assert.deepEqual(p.problems.map((x: { field: string }) => x.field), ['email']);
      assert.ok(!clash.body.toLowerCase().includes('taken-9931'), 'the value is never echoed');
      const other = await create(key, base, { email: 'other@example.org', name: 'Other' });
      const patch = await t.call('PATCH', `${base}/${other.id}`, { token: key, body: { data: { email: 'taken-9931@example.org' } } });
      assertProblem(patch, 409, 'record.unique_violation');
      assert.ok(!patch.body.includes('taken-9931'));
      assert.deepEqual((await t.call('GET', `${base}/${other.id}`, { token: key })).json(), other, 'the patched record is unchanged');
      assert.deepEqual(await found(key, base, { email: 'taken-9931@example.org' }), [first.id]);
      const list = (await t.call('GET', base, { token: key })).json().items;
      assert.equal(list.length, 2, 'the clashing record was not written');
    });

    it('a viewer can read and search but not write; an editor can write', async () => {
      const viewer = await seedTenant(t, 'Roles', 'viewer');
      const rec = await create(viewer.adminKey, viewer.base, { email: 'r@example.org', name: 'Readable' });
      assert.equal((await t.call('GET', `${viewer.base}/${rec.id}`, { token: viewer.key })).statusCode, 200);
      assert.equal((await t.call('GET', viewer.base, { token: viewer.key })).statusCode, 200);
      assert.deepEqual(await found(viewer.key, viewer.base, { email: 'r@example.org' }), [rec.id]);
      assertProblem(await t.call('POST', viewer.base, { token: viewer.key, body: { data: { name: 'No' } } }), 403, 'auth.forbidden');
      assertProblem(await t.call('PATCH', `${viewer.base}/${rec.id}`, { token: viewer.key, body: { data: { name: 'No' } } }), 403, 'auth.forbidden');
      assertProblem(await t.call('DELETE', `${viewer.base}/${rec.id}`, { token: viewer.key }), 403, 'auth.forbidden');
      const after = (await t.call('GET', viewer.base, { token: viewer.key })).json().items;
      assert.deepEqual(after, [rec], 'nothing was written by the viewer');

      const editorKey = (await t.call('POST', `/v1/tenants/${viewer.tenantId}/api-keys`, { body: { name: 'ed', role: 'editor' } })).json().key;
      const made = await create(editorKey, viewer.base, { name: 'By editor' });
      const patched = await t.call('PATCH', `${viewer.base}/${rec.id}`, { token: editorKey, body: { data: { name: 'Edited' } } });
      assert.equal(patched.statusCode, 200);
      assert.equal((await t.call('DELETE', `${viewer.base}/${made.id}`, { token: editorKey })).statusCode, 204);
    });

    it("another tenant's records answer 404 whichever URL is used", async () => {
      const a = await seedTenant(t, 'Records A');
      const b = await seedTenant(t, 'Records B');
      const rec = await create(a.key, a.base, { email: 'private@example.org', name: 'Private' });
      assertProblem(await t.call('GET', `${a.base}/${rec.id}`, { token: b.key }), 404, 'tenant.not_found');
      assertProblem(await t.call('PATCH', `${a.base}/${rec.id}`, { token: b.key, body: { data: { name: 'x' } } }), 404, 'tenant.not_found');
      assertProblem(await t.call('DELETE', `${a.base}/${rec.id}`, { token: b.key }), 404, 'tenant.not_found');
      assertProblem(await search(b.key, a.base, { email: 'private@example.org' }), 404, 'tenant.not_found');
      assertProblem(await t.call('GET', `${b.base}/${rec.id}`, { token: b.key }), 404, 'record.not_found');
      assertProblem(await t.call('PATCH', `${b.base}/${rec.id}`, { token: b.key, body: { data: { name: 'x' } } }), 404, 'record.not_found');
      assertProblem(await t.call('DELETE', `${b.base}/${rec.id}`, { token: b.key }), 404, 'record.not_found');
      assert.deepEqual(await found(b.key, b.base, { email: 'private@example.org' }), []);
      assert.deepEqual((await t.call('GET', `${a.base}/${rec.id}`, { token: a.key })).json(), rec, "tenant A's record is untouched");
    });
  });
}
