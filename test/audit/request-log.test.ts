// The request log: one entry per API request with who, from where, what and
// how it ended; X-Forwarded-For only from a configured proxy; never a secret.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { seedTenant, startTestApp, type TestApp } from '../helpers/test-app.ts';
import { sample } from '../helpers/metrics.ts';

type RequestEntry = { kind: string; requestId: string; actor: { type: string; id: string; role: string } | null; tenantId: string | null;
  ip: string; method: string; route: string | null; path: string; status: number; durationMs: number; userAgent: string | null };

for (const backend of backends) {
  describe(`request log [${backend}]`, () => {
    for (const [label, env, expectedIp] of [
      ['X-Forwarded-For from an untrusted peer is ignored', {}, '127.0.0.1'],
      ['X-Forwarded-For from a trusted proxy names the client', { TRESOR_TRUSTED_PROXIES: '127.0.0.0/8, ::1' }, '203.0.113.9'],
    ] as const) {
      describe(label, () => {
        let t: TestApp;
        let a: Awaited<ReturnType<typeof seedTenant>>;
        const requests = async (query: string) => {
          await t.services.requestLog.flush();
          const res = await t.call('GET', `/v1/audit/export?action=http.request&limit=500&${query}`);
          assert.equal(res.statusCode, 200, res.body);
          return res.json().items.map((i: { entry: RequestEntry }) => i.entry) as RequestEntry[];
        };
        before(async () => {
          t = await startTestApp(backend, { env });
          a = await seedTenant(t, 'Logged');
        });
        after(async () => t.close());

        it('logs a data request with request id, actor ids, IP, route template, path, status, duration and user agent', async () => {
          const res = await t.call('POST', a.base, { token: a.key, body: { data: { email: 'logged@example.org', name: 'Logged Person' } },
            headers: { 'user-agent': 'audit-test/1.0', 'x-forwarded-for': '203.0.113.9' } });
          assert.equal(res.statusCode, 201);
          const [entry] = (await requests(`tenantId=${a.tenantId}`)).filter((e) => e.requestId === res.headers['x-request-id']);
          assert.ok(entry, 'the request is in the log');
          assert.equal(entry.kind, 'request');
          assert.equal(entry.ip, expectedIp);
          assert.deepEqual({ method: entry.method, route: entry.route, path: entry.path, status: entry.status, userAgent: entry.userAgent, tenantId: entry.tenantId },
            { method: 'POST', route: '/v1/tenants/:tenantId/collections/:name/records', path: a.base, status: 201, userAgent: 'audit-test/1.0', tenantId: a.tenantId });
          assert.equal(entry.actor!.type, 'api_key');
          assert.equal(typeof entry.durationMs, 'number');
          assert.doesNotMatch(JSON.stringify(entry), new RegExp(a.key.slice(-20)), 'the key itself never reaches the log');
        });

        it('logs refused requests: no credentials (no actor, no tenant), another tenant\'s id (the caller\'s own tenant), unknown routes', async () => {
          const other = await seedTenant(t, 'Other');
          const anonymous = await t.call('GET', `${a.base}?limit=1`, { token: '' });
          const foreign = await t.call('GET', `${other.base}?limit=1`, { token: a.key });
          const unknown = await t.call('GET', '/v1/nothing-here', { token: a.key });
          assert.deepEqual([anonymous.statusCode, foreign.statusCode, unknown.statusCode], [401, 404, 404]);
          const all = await requests('');
          const byId = (r: typeof anonymous) => all.find((e) => e.requestId === r.headers['x-request-id'])!;
          assert.deepEqual({ actor: byId(anonymous).actor, tenantId: byId(anonymous).tenantId, status: byId(anonymous).status }, { actor: null, tenantId: null, status: 401 });
          assert.deepEqual({ tenantId: byId(foreign).tenantId, status: byId(foreign).status }, { tenantId: a.tenantId, status: 404 });
          assert.deepEqual({ route: byId(unknown).route, path: byId(unknown).path, status: byId(unknown).status }, { route: null, path: '/v1/nothing-here', status: 404 });
          const otherLog = (await t.call('GET', `/v1/tenants/${other.tenantId}/audit?action=http.request&limit=500`, { token: other.adminKey })).json();
          assert.ok(otherLog.items.every((i: { entry: RequestEntry }) => i.entry.actor?.id !== byId(foreign).actor!.id), 'B does not learn A\'s key id');
        });

        it('keeps probes out and counts what it wrote', async () => {
          const health = await t.app.inject({ method: 'GET', url: '/healthz' });
          assert.ok((await requests('')).every((e) => e.requestId !== health.headers['x-request-id']));
          const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
          assert.ok(sample(metrics.body, 'tresor_request_log_entries_total', '{outcome="written"}') > 0);
        });
      });
    }
  });
}
