// Issue 6, item 5: domain events are counted where they happen and read back
// through GET /metrics, with small fixed label sets (never a key or an id).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { newApiKey } from '../../src/crypto/api-key-secret.ts';
import { sample } from '../helpers/metrics.ts';
import { loadConfig } from '../../src/config.ts';
import { freePort } from '../helpers/security-process.ts';
import { seedTenant, startTestApp, type TestApp } from '../helpers/test-app.ts';

for (const backend of backends) {
  describe(`domain metrics on /metrics [${backend}]`, () => {
    let t: TestApp;
    let seed: Awaited<ReturnType<typeof seedTenant>>;
    const scrape = async () => {
      const res = await t.app.inject({ method: 'GET', url: '/metrics' });
      assert.equal(res.statusCode, 200);
      return res.body;
    };
    before(async () => {
      t = await startTestApp(backend, { env: { TRESOR_KEY_CACHE_TTL_MS: '100' } }); // a rotation waits out the key cache
      seed = await seedTenant(t, 'Metrics GmbH');
    });
    after(() => t.close());

    it('counts imported and rejected import lines', async () => {
      const line = (data: Record<string, string>) => JSON.stringify({ data });
      const lines = [line({ email: 'a@metrics.example', name: 'A' }), line({ email: 'b@metrics.example', name: 'B' }), 'not json',
        line({ email: 'not-an-email', name: 'C' }), line({ email: 'a@metrics.example', name: 'Dup' })];
      const res = await t.call('POST', `${seed.base}/import`, { token: seed.key, body: lines.join('\n'), headers: { 'content-type': 'application/x-ndjson' } });
      assert.equal(res.statusCode, 200, res.body);
      const { imported, rejectedCount } = res.json();
      assert.equal(imported, 2);
      const text = await scrape();
      assert.equal(sample(text, 'tresor_import_records_total', '{outcome="imported"}'), imported);
      assert.equal(sample(text, 'tresor_import_records_total', '{outcome="rejected"}'), rejectedCount);
      assert.equal(rejectedCount, 3);
    });

    it('counts authentication failures by reason, never naming the key', async () => {
      const other = await seedTenant(t, 'Metrics Other');
      const viewer = await seedTenant(t, 'Metrics Viewer', 'viewer');
      const made = (await t.call('POST', `/v1/tenants/${seed.tenantId}/api-keys`, { token: seed.key, body: { name: 'to revoke', role: 'viewer' } })).json();
      assert.equal((await t.call('DELETE', `/v1/tenants/${seed.tenantId}/api-keys/${made.id}`, { token: seed.key })).statusCode, 204);
      const unknown = newApiKey().key;
      const statuses = [
        (await t.app.inject({ method: 'GET', url: seed.base })).statusCode, // missing
        (await t.call('GET', seed.base, { token: 'not-a-key' })).statusCode, // invalid (malformed)
        (await t.call('GET', seed.base, { token: unknown })).statusCode, // invalid (unknown)
        (await t.call('GET', seed.base, { token: made.key })).statusCode, // revoked
        (await t.call('POST', viewer.base, { token: viewer.key, body: { data: { name: 'x' } } })).statusCode, // forbidden
        (await t.call('GET', seed.base, { token: other.key })).statusCode, // foreign tenant
      ];
      assert.deepEqual(statuses, [401, 401, 401, 401, 403, 404]);
      const text = await scrape();
      const failures = (reason: string) => sample(text, 'tresor_auth_failures_total', `{reason="${reason}"}`);
      assert.deepEqual(['missing', 'invalid', 'revoked', 'forbidden', 'foreign_tenant'].map(failures), [1, 2, 1, 1, 1]);
      const authLines = text.split('\n').filter((l) => l.startsWith('tresor_auth_failures_total'));
      assert.equal(authLines.length, 5, 'one series per reason, no more');
      for (const secret of [made.key, made.id, unknown, other.tenantId]) assert.ok(!text.includes(secret), 'no key or id in a label');
    });

    it('counts rotations started and records re-encrypted', async () => {
      const res = await t.call('POST', `/v1/tenants/${seed.tenantId}/keys/rotate`, { token: seed.adminKey });
      assert.equal(res.statusCode, 202, res.body);
      await t.services.rotation.idle();
      const text = await scrape();
      assert.equal(sample(text, 'tresor_key_rotations_started_total'), 1);
      // The two records the import wrote, moved to the new key version.
      assert.equal(sample(text, 'tresor_reencrypt_records_total', '{outcome="reencrypted"}'), 2);
      assert.equal(sample(text, 'tresor_reencrypt_records_total', '{outcome="unreadable"}'), 0);
    });
  });
}

describe('TRESOR_METRICS_PORT: /metrics only on its own port', () => {
  let t: TestApp;
  let port: number;
  before(async () => {
    port = await freePort();
    t = await startTestApp('pglite', { env: { TRESOR_METRICS_PORT: String(port) } });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(() => t.close());

  it('serves the scrape on the metrics port and nothing there but /metrics', async () => {
    assert.equal((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(res.status, 200);
    assert.match(String(res.headers.get('content-type')), /^text\/plain/);
    assert.equal(sample(await res.text(), 'tresor_http_requests_total', '{method="GET",route="/healthz",status="200"}'), 1);
    assert.equal((await fetch(`http://127.0.0.1:${port}/v1/tenants`)).status, 404);
  });

  it('refuses a metrics port equal to PORT at start-up', () => {
    assert.throws(() => loadConfig({ PORT: '9100', TRESOR_METRICS_PORT: '9100' }), /TRESOR_METRICS_PORT: must differ from PORT/);
  });

  it('the main listener no longer answers /metrics', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().code, 'route.not_found');
  });
});
