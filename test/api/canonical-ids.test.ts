// Defect 1: ids arrive in any spelling RFC 9562 allows (upper case, urn:uuid:)
// and must be made canonical before anything is built from them. This test is
// generated from the OpenAPI document: every route with an id parameter is
// called with existing ids in both spellings; nothing may answer 5xx, and the
// tenant's data must stay readable, listable and rotatable afterwards.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { type TestApp, seedTenant, startTestApp } from '../helpers/test-app.ts';
import { manualClock, onboard } from '../helpers/people.ts';

type Spell = (id: string) => string;
const spellings: Array<[string, Spell]> = [
  ['upper case', (id) => id.toUpperCase()],
  ['urn:uuid:', (id) => `urn:uuid:${id}`],
  ['URN:UUID: upper case', (id) => `URN:UUID:${id.toUpperCase()}`],
];
// Holds only unencrypted fields: the issue's PATCH repro.
const notes = { name: 'notes', fields: [{ name: 'name', type: 'string', classification: 'none' }] };

interface Route { method: string; path: string; uuidParams: string[] }

for (const backend of backends) {
  describe(`ids in any spelling are made canonical at the edge [${backend}]`, () => {
    let t: TestApp;
    let s: Awaited<ReturnType<typeof seedTenant>>;
    let editorKey: string;
    let ownerKey: string;
    const clock = manualClock(Date.now());
    let n = 0;
    let verification: string | undefined;
    before(async () => {
      // A rotation waits out the key cache before its old version retires: a short cache keeps the walk's rotations short.
      t = await startTestApp(backend, { now: clock.now, env: { TRESOR_KEY_CACHE_TTL_MS: '100' } });
      s = await seedTenant(t, 'Canonical Ids');
      assert.equal((await t.call('POST', `/v1/tenants/${s.tenantId}/collections`, { token: s.adminKey, body: notes })).statusCode, 201);
      editorKey = (await t.call('POST', `/v1/tenants/${s.tenantId}/api-keys`, { body: { name: 'editor', role: 'editor' } })).json().key;
      ownerKey = (await t.call('POST', `/v1/tenants/${s.tenantId}/api-keys`, { body: { name: 'owner', role: 'owner' } })).json().key;
    });
    after(() => t.close());

    const recordsOf = (c: string) => `/v1/tenants/${s.tenantId}/collections/${c}/records`;
    const newRecord = async (c: string) =>
      (await t.call('POST', recordsOf(c), { token: s.adminKey, body: { data: { name: `r${n++}` } } })).json().id as string;

    async function routesWithIds(): Promise<Route[]> {
      const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
      const routes: Route[] = [];
      for (const [path, ops] of Object.entries<Record<string, { parameters?: Array<{ in: string; name: string; schema: { format?: string } }> }>>(doc.paths)) {
        for (const [method, op] of Object.entries(ops)) {
          const uuidParams = (op.parameters ?? []).filter((p) => p.in === 'path' && p.schema.format === 'uuid').map((p) => p.name);
          if (uuidParams.length) routes.push({ method: method.toUpperCase(), path, uuidParams });
        }
      }
      return routes;
    }

    // Existing ids for a route's parameters; what a DELETE removes is made for it.
    async function idsFor(r: Route, collection: string): Promise<Record<string, string>> {
      const ids: Record<string, string> = { tenantId: s.tenantId, name: collection };
      if (r.uuidParams.includes('id')) ids.id = await newRecord(collection);
      if (r.uuidParams.includes('recordId')) ids.recordId = await newRecord('customers');
      if (r.path.startsWith('/v1/operator-keys/')) ids.keyId = (await t.services.apiKeys.createOperatorKey('spare')).id;
      else if (r.uuidParams.includes('keyId')) ids.keyId = (await t.call('POST', `/v1/tenants/${s.tenantId}/api-keys`, { body: { name: 'spare', role: 'viewer' } })).json().id;
      if (r.uuidParams.includes('userId')) ids.userId = await newUser(r.path.startsWith('/v1/users/'));
      if (r.uuidParams.includes('grantId')) {
        const support = (await t.call('POST', '/v1/operator-keys', { body: { name: 'helpdesk', role: 'support' } })).json().key;
        const grant = await t.call('POST', `/v1/tenants/${s.tenantId}/support-grants`, { token: support, body: { reason: 'walk', minutes: 30 } });
        assert.equal(grant.statusCode, 201, grant.body);
        ids.grantId = grant.json().id;
      }
      if (r.uuidParams.includes('holdId')) {
        const hold = await t.call('POST', `/v1/tenants/${s.tenantId}/legal-holds`, { token: s.adminKey, body: { where: { email: `held${n++}@ids.example` }, reason: 'walk' } });
        assert.equal(hold.statusCode, 201, hold.body);
        ids.holdId = hold.json().id;
      }
      if (r.uuidParams.includes('subProcessorId') || r.uuidParams.includes('changeId')) {
        const added = await t.call('POST', '/v1/sub-processors', { body: { name: `sp${n++}`, service: 'hosting', country: 'DE', dataCategories: [], dpaDate: '2026-01-15' } });
        assert.equal(added.statusCode, 201, added.body);
        [ids.subProcessorId, ids.changeId] = [added.json().id, added.json().change.id];
      }
      if (r.uuidParams.includes('incidentId')) {
        const at = new Date(clock.now().getTime() - 60_000).toISOString();
        const opened = await t.call('POST', '/v1/incidents', { body: { title: `walk ${n++}`, category: 'integrity', severity: 'low', detectedAt: at, awareAt: at,
          affectedSystems: [], dataCategories: [], description: 'walk' } });
        assert.equal(opened.statusCode, 201, opened.body);
        ids.incidentId = opened.json().id;
      }
      if (r.uuidParams.includes('verificationId')) {
        // A restore verification needs an embedded backup; on PostgreSQL (no pgBackRest here) an unknown id must answer 404, not 5xx.
        // One verification serves every spelling: reading it changes nothing.
        if (backend === 'pglite' && verification) ids.verificationId = verification;
        else if (backend === 'pglite') {
          await t.call('POST', '/v1/backups');
          await t.services.backups.idle();
          const run = await t.call('POST', '/v1/backups/verifications', { body: {} });
          assert.equal(run.statusCode, 202, run.body);
          await t.services.verifications.idle();
          ids.verificationId = verification = run.json().id;
        } else ids.verificationId = '0190d5a2-7c3e-7000-8000-000000000000';
      }
      return ids;
    }

    // An active tenant user (invited by the tenant's admin) or platform user (by an operator), onboarded through the API.
    async function newUser(platform: boolean): Promise<string> {
      const email = `walker${n++}@ids.example`;
      const user = platform
        ? await onboard(t, clock, null, { email, role: 'support', inviter: t.operatorKey })
        : await onboard(t, clock, s.tenantId, { email, role: 'viewer', inviter: s.adminKey });
      return user.userId;
    }

    function bodyFor(r: Route): { body?: unknown; headers?: Record<string, string> } {
      if (r.method === 'PATCH' && r.path.includes('/users/')) return { body: { role: r.path.startsWith('/v1/users/') ? 'support' : 'editor' } };
      if (r.path.endsWith('/import')) return { body: '{"data":{"name":"imported"}}\n', headers: { 'content-type': 'application/x-ndjson' } };
      if (r.path.endsWith('/search')) return { body: { where: { name: 'r0' } } };
      if (r.path.endsWith('/collections')) return { body: { ...notes, name: `notes_${n++}` } };
      if (r.path.endsWith('/api-keys')) return { body: { name: 'walk', role: 'viewer' } };
      if (r.path.endsWith('/operator-keys')) return { body: { name: 'walk' } };
      if (r.method === 'POST' && r.path.endsWith('/records')) return { body: { data: { name: `w${n++}` } } };
      if (r.method === 'PATCH') return { body: { data: { name: `p${n++}` } } };
      return {};
    }

    async function assertAllReadable() {
      for (const c of ['customers', 'notes']) {
        const list = await t.call('GET', `${recordsOf(c)}?limit=500`, { token: s.key });
        assert.equal(list.statusCode, 200, list.body);
        for (const rec of list.json().items) {
          const one = await t.call('GET', `${recordsOf(c)}/${rec.id}`, { token: s.key });
          assert.equal(one.statusCode, 200, one.body);
          assert.equal(one.json().id, rec.id);
        }
      }
    }

    it('every route with an id answers without 5xx for upper-case and urn:uuid: ids, and nothing is damaged', async () => {
      const routes = await routesWithIds();
      assert.ok(routes.length >= 15, `found ${routes.length} routes with ids`);
      for (const r of routes) {
        for (const c of r.path.includes('{name}') ? ['customers', 'notes'] : ['-']) {
          for (const [label, spell] of spellings) {
            const ids = await idsFor(r, c);
            const url = r.path.replace(/\{(\w+)\}/g, (_, p: string) => (r.uuidParams.includes(p) ? spell(ids[p]) : ids[p]));
            const platform = r.path.startsWith('/v1/operator-keys') || r.path.startsWith('/v1/users/') || r.path.startsWith('/v1/backups/') || r.path.startsWith('/v1/incidents/');
            const token = platform ? t.operatorKey : r.path.includes('/support-grants/') ? ownerKey : s.adminKey;
            const res = await t.call(r.method, url, { token, ...bodyFor(r) });
            assert.ok(res.statusCode < 500, `${r.method} ${r.path} (${label}) answered ${res.statusCode}: ${res.body}`);
            if (ids.userId || ids.grantId || ids.holdId) {
              assert.notEqual(res.statusCode, 404, `${r.method} ${r.path} (${label}) finds the ${ids.userId ? 'user' : ids.grantId ? 'grant' : 'hold'}: ${res.body}`);
            }
            if (ids.incidentId && r.path.startsWith('/v1/incidents/')) assert.ok(res.statusCode !== 404, `${r.method} ${r.path} (${label}) finds the incident: ${res.body}`);
            if (ids.subProcessorId) assert.notEqual(res.statusCode, 404, `${r.method} ${r.path} (${label}) finds the sub-processor or change: ${res.body}`);
            if (ids.verificationId) {
              assert.equal(res.statusCode, backend === 'pglite' ? 200 : 404, `${r.method} ${r.path} (${label}): ${res.body}`);
              if (backend === 'pglite') assert.equal(res.json().id, ids.verificationId, 'the answer carries the canonical id');
            }
            if (res.statusCode < 300 && res.body && ids.id && res.json().id) assert.equal(res.json().id, ids.id, 'the answer carries the canonical id');
            await t.services.rotation.idle();
          }
        }
      }
      await assertAllReadable();
    });

    it("the issue's repros: operator rotation, editor PATCH on unencrypted fields, urn:uuid: tenant lookup", async () => {
      const tenant = await t.call('GET', `/v1/tenants/urn:uuid:${s.tenantId}`);
      assert.equal(tenant.statusCode, 200, tenant.body);
      assert.equal(tenant.json().id, s.tenantId);

      const id = await newRecord('notes');
      const patched = await t.call('PATCH', `${recordsOf('notes')}/${id.toUpperCase()}`, { token: editorKey, body: { data: { name: 'edited' } } });
      assert.equal(patched.statusCode, 200, patched.body);
      assert.equal(patched.json().id, id);
      assert.equal((await t.call('GET', `${recordsOf('notes')}/${id}`, { token: s.key })).json().data.name, 'edited');

      // Percent-encoded (and upper-case hex digits written as %41…%46) is the same id once decoded.
      const encoded = (id: string) => `urn%3Auuid%3A${id.toUpperCase().replace(/[A-F]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
      assert.equal((await t.call('GET', `/v1/tenants/${encoded(s.tenantId)}`)).json().id, s.tenantId);
      const again = await t.call('PATCH', `/v1/tenants/${encoded(s.tenantId)}/collections/notes/records/${encoded(id)}`, { token: editorKey, body: { data: { name: 'encoded' } } });
      assert.equal(again.statusCode, 200, again.body);
      assert.equal(again.json().id, id);
      assert.equal((await t.call('GET', `${recordsOf('notes')}/${id}`, { token: s.key })).json().data.name, 'encoded');

      for (let round = 0; round < 2; round++) {
        const spelled = round === 0 ? s.tenantId.toUpperCase() : encoded(s.tenantId);
        const rotated = await t.call('POST', `/v1/tenants/${spelled}/keys/rotate`);
        assert.equal(rotated.statusCode, 202, rotated.body);
        await t.services.rotation.idle();
        const status = await t.call('GET', `/v1/tenants/${s.tenantId}/keys`);
        assert.equal(status.json().rotating, false, status.body);
        await assertAllReadable();
      }
    });
  });
}
