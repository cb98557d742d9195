import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backends } from '../helpers/backends.ts';
import { assertProblem } from '../helpers/problem.ts';
import { seedTenant, startTestApp, type TestApp } from '../helpers/test-app.ts';
import { tresor } from '../cli/run-cli.ts';

type Line = { type: string; [k: string]: unknown };
const parse = (body: string) => body.trimEnd().split('\n').map((l) => JSON.parse(l) as Line);

for (const backend of backends) {
  describe(`full tenant export [${backend}]`, () => {
    let t: TestApp;
    let a: Awaited<ReturnType<typeof seedTenant>>;
    let ownerKey: string;
    let url: string;
    const dir = mkdtempSync(join(tmpdir(), 'tresor-export-'));
    const ids: string[] = [];

    before(async () => {
      // Pages of 3, so the 7 + 2 records below span several keyset pages.
      t = await startTestApp(backend, { env: { TRESOR_EXPORT_PAGE: '3' } });
      a = await seedTenant(t, 'Export GmbH');
      ownerKey = (await t.call('POST', `/v1/tenants/${a.tenantId}/api-keys`, { body: { name: 'owner', role: 'owner' } })).json().key;
      for (let i = 0; i < 7; i++) {
        const res = await t.call('POST', a.base, { token: a.key, body: { data: { email: `p${i}@export.example`, name: `Person ${i}`, birthdate: '1990-01-0' + (1 + i), tier: 'gold' } } });
        assert.equal(res.statusCode, 201, res.body);
        ids.push(res.json().id);
      }
      const pay = { name: 'payments', fields: [{ name: 'order_ref', type: 'string', classification: 'none' }, { name: 'event', type: 'payment_event' }] };
      assert.equal((await t.call('POST', `/v1/tenants/${a.tenantId}/collections`, { token: a.adminKey, body: pay })).statusCode, 201);
      for (const ref of ['A-1', 'A-2']) {
        const res = await t.call('POST', `/v1/tenants/${a.tenantId}/collections/payments/records`, { token: a.key,
          body: { data: { order_ref: ref, event: { at: '2026-12-02T08:00:00Z', status: 'captured', providerRef: `pi_${ref}` } } } });
        assert.equal(res.statusCode, 201, res.body);
      }
      // Another tenant's records must never appear.
      const other = await seedTenant(t, 'Other GmbH');
      assert.equal((await t.call('POST', other.base, { token: other.key, body: { data: { email: 'x@other.example', name: 'Not Mine' } } })).statusCode, 201);
      url = await t.app.listen({ port: 0, host: '127.0.0.1' });
    });
    after(async () => { await t.close(); rmSync(dir, { recursive: true, force: true }); });

    it('streams every collection with field classification and every record decrypted, across pages, then an end line with the counts', async () => {
      const res = await t.call('POST', `/v1/tenants/${a.tenantId}/export`);
      assert.equal(res.statusCode, 200, res.body);
      assert.match(String(res.headers['content-type']), /^application\/x-ndjson/);
      const lines = parse(res.body);
      assert.deepEqual(lines[0], { type: 'export', tenantId: a.tenantId, startedAt: lines[0].startedAt, collections: 2, records: 9 });
      assert.deepEqual(lines.map((l) => l.type), ['export', 'collection', ...Array(7).fill('record'), 'collection', 'record', 'record', 'end']);
      const customers = lines[1];
      assert.equal(customers.name, 'customers');
      assert.deepEqual((customers.fields as Array<{ name: string; classification: string }>).map((f) => `${f.name}:${f.classification}`),
        ['email:personal', 'name:personal', 'phone:personal', 'birthdate:special', 'address:personal', 'tier:none']);
      const records = lines.filter((l) => l.type === 'record' && l.collection === 'customers');
      assert.deepEqual(records.map((r) => r.id), ids, 'every record once, in id order');
      assert.deepEqual(records[3].data, { email: 'p3@export.example', name: 'Person 3', birthdate: '1990-01-04', tier: 'gold' });
      assert.deepEqual(lines[10].data, { order_ref: 'A-1', event: { at: '2026-12-02T08:00:00.000Z', status: 'captured', providerRef: 'pi_A-1' } });
      assert.deepEqual(lines.at(-1), { type: 'end', collections: 2, records: 9 });
      assert.equal(res.body.includes('Not Mine'), false);
    });

    it('is audited at start and end with counts, never values', async () => {
      const res = await t.call('GET', `/v1/tenants/${a.tenantId}/audit?limit=500&action=tenant.export.end`);
      const entries = res.json().items.map((i: { entry: { detail: unknown; target: unknown } }) => i.entry);
      assert.ok(entries.length >= 1);
      assert.deepEqual(entries[0].detail, { collections: 2, records: 9, complete: true });
      const started = (await t.call('GET', `/v1/tenants/${a.tenantId}/audit?limit=500&action=tenant.export`)).json().items[0].entry;
      assert.deepEqual(started.detail, { collections: 2, records: 9 });
      assert.deepEqual(started.target, { type: 'tenant', id: a.tenantId });
      const all = (await t.call('GET', `/v1/tenants/${a.tenantId}/audit?limit=500`)).body;
      assert.equal(/export\.example|Person 3/.test(all), false);
    });

    it('the owner may export; admin and viewer may not (403); another tenant\'s key and an unknown tenant get 404', async () => {
      assert.equal((await t.call('POST', `/v1/tenants/${a.tenantId}/export`, { token: ownerKey })).statusCode, 200);
      assertProblem(await t.call('POST', `/v1/tenants/${a.tenantId}/export`, { token: a.adminKey }), 403, 'auth.forbidden');
      const other = await seedTenant(t, 'Nosy GmbH');
      assertProblem(await t.call('POST', `/v1/tenants/${a.tenantId}/export`, { token: other.adminKey }), 404, 'tenant.not_found');
      assertProblem(await t.call('POST', '/v1/tenants/0193a1c2-7d4e-7f00-8000-00000000dead/export'), 404, 'tenant.not_found');
    });

    it('tresor tenant export --out writes a 0600 file through the HTTP API with an operator key, with progress on stderr', async () => {
      const out = join(dir, 'export.ndjson');
      const run = await tresor(['tenant', 'export', '--tenant', a.tenantId, '--out', out, '--json', '--progress-every', '1'], { TRESOR_URL: url, TRESOR_TOKEN: t.operatorKey });
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(JSON.parse(run.stdout), { tenantId: a.tenantId, collections: 2, records: 9, file: out });
      assert.match(run.stderr, /export .*: 9\/9 records \(100%\)/);
      assert.equal(statSync(out).mode & 0o777, 0o600);
      const lines = parse(readFileSync(out, 'utf8'));
      assert.equal(lines.filter((l) => l.type === 'record').length, 9);
      assert.equal(existsSync(`${out}.partial`), false);
      // Never over an existing file.
      const again = await tresor(['tenant', 'export', '--tenant', a.tenantId, '--out', out], { TRESOR_URL: url, TRESOR_TOKEN: t.operatorKey });
      assert.equal(again.code, 1);
      assert.match(again.stderr, /EEXIST/);
    });

    it('tresor tenant export to stdout; a refused export prints the problem and exits 1', async () => {
      const run = await tresor(['tenant', 'export', '--tenant', a.tenantId], { TRESOR_URL: url, TRESOR_TOKEN: t.operatorKey });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(parse(run.stdout).at(-1)!.type, 'end');
      const refused = await tresor(['tenant', 'export', '--tenant', a.tenantId], { TRESOR_URL: url, TRESOR_TOKEN: a.adminKey });
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /403 auth\.forbidden/);
      writeFileSync(join(dir, 'keep'), '');
    });
  });
}
