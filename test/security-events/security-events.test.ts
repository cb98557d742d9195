// Security events: refusals and key changes are recorded per tenant (time,
// actor, IP, user agent; never a secret or a field value) and read back by
// owners, admins and auditors through GET /v1/tenants/{id}/security-events.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { type TestApp, seedTenant, startTestApp } from '../helpers/test-app.ts';
import { assertProblem } from '../helpers/problem.ts';

for (const backend of backends) {
  describe(`security events [${backend}]`, () => {
    let t: TestApp;
    let a: Awaited<ReturnType<typeof seedTenant>>;
    let b: Awaited<ReturnType<typeof seedTenant>>;
    let clock = new Date('2026-03-01T10:00:00.000Z');
    const events = async (tenantId: string, token: string, query = '') =>
      t.call('GET', `/v1/tenants/${tenantId}/security-events${query}`, { token });
    const keyFor = async (tenantId: string, role: string, token = t.operatorKey) =>
      (await t.call('POST', `/v1/tenants/${tenantId}/api-keys`, { token, body: { name: `${role} key`, role } })).json() as { id: string; key: string };

    before(async () => {
      t = await startTestApp(backend, { now: () => clock });
      a = await seedTenant(t, 'Events A');
      b = await seedTenant(t, 'Events B');
    });
    after(() => t.close());

    it('a refused action is recorded on the actor\'s tenant with route, action, IP and user agent, never the key', async () => {
      const viewer = await keyFor(a.tenantId, 'viewer', a.adminKey);
      const refused = await t.call('POST', `/v1/tenants/${a.tenantId}/collections`, {
        token: viewer.key, body: { name: 'x', fields: [] }, headers: { 'user-agent': 'probe/1.0' } });
      assertProblem(refused, 403, 'auth.forbidden');
      const res = await events(a.tenantId, a.adminKey, '?type=access.denied');
      assert.equal(res.statusCode, 200, res.body);
      const [ev] = res.json().items;
      assert.equal(ev.type, 'access.denied');
      assert.equal(ev.tenantId, a.tenantId);
      assert.deepEqual(ev.actor, { type: 'api_key', id: viewer.id, role: 'viewer' });
      assert.equal(ev.ip, '127.0.0.1');
      assert.equal(ev.userAgent, 'probe/1.0');
      assert.deepEqual(ev.detail, { reason: 'forbidden', action: 'collections.create', method: 'POST',
        route: '/v1/tenants/:tenantId/collections', tenantId: a.tenantId });
      assert.equal(ev.createdAt, clock.toISOString());
      assert.ok(!res.body.includes(viewer.key) && !res.body.includes(viewer.key.slice(-43)), 'the key never appears');
    });

    it('another tenant\'s id answers 404 and is recorded on the prober\'s own tenant, not on the target', async () => {
      const before = (await events(b.tenantId, b.adminKey, '?type=access.denied')).json().items.length;
      assertProblem(await t.call('GET', `${b.base}/00000000-0000-7000-8000-000000000000`, { token: a.adminKey }), 404, 'tenant.not_found');
      const mine = (await events(a.tenantId, a.adminKey, '?type=access.denied')).json().items[0];
      assert.equal(mine.detail.reason, 'foreign_tenant');
      assert.equal(mine.detail.tenantId, b.tenantId);
      assert.equal(mine.detail.route, '/v1/tenants/:tenantId/collections/:name/records/:id');
      assert.equal((await events(b.tenantId, b.adminKey, '?type=access.denied')).json().items.length, before);
    });

    it('keys made by the tenant and minted by an operator are told apart; revocation is recorded', async () => {
      const own = await keyFor(a.tenantId, 'editor', a.adminKey);
      const minted = await keyFor(a.tenantId, 'admin');
      assert.equal((await t.call('DELETE', `/v1/tenants/${a.tenantId}/api-keys/${own.id}`, { token: a.adminKey })).statusCode, 204);
      const items = (await events(a.tenantId, a.adminKey, '?type=api_key.created,operator.key_minted,api_key.revoked')).json().items;
      const [revoked, mint, created] = items;
      assert.deepEqual([revoked.type, revoked.detail.keyId], ['api_key.revoked', own.id]);
      assert.deepEqual([mint.type, mint.detail.keyId, mint.detail.role, mint.actor.role], ['operator.key_minted', minted.id, 'admin', 'operator']);
      assert.deepEqual([created.type, created.detail.keyId, created.actor.role], ['api_key.created', own.id, 'admin']);
      assert.ok(!JSON.stringify(items).includes(minted.key), 'the minted key never appears');
    });

    it('owners, admins and auditors read events; editors and viewers are refused; another tenant answers 404', async () => {
      const owner = await keyFor(a.tenantId, 'owner');
      const auditor = await keyFor(a.tenantId, 'auditor', a.adminKey);
      for (const token of [owner.key, auditor.key, a.adminKey]) assert.equal((await events(a.tenantId, token)).statusCode, 200);
      for (const role of ['editor', 'viewer']) assertProblem(await events(a.tenantId, (await keyFor(a.tenantId, role, a.adminKey)).key), 403, 'auth.forbidden');
      assertProblem(await events(b.tenantId, a.adminKey), 404, 'tenant.not_found');
      assertProblem(await events(a.tenantId, t.operatorKey), 403, 'auth.forbidden');
    });

    it('pages newest first with a cursor, and filters by time', async () => {
      clock = new Date('2026-03-02T10:00:00.000Z');
      await keyFor(a.tenantId, 'viewer', a.adminKey);
      clock = new Date('2026-03-03T10:00:00.000Z');
      await keyFor(a.tenantId, 'editor', a.adminKey);
      const all = (await events(a.tenantId, a.adminKey, '?limit=500')).json().items;
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { items: { id: string }[]; nextCursor: string | null } =
          (await events(a.tenantId, a.adminKey, `?limit=2${cursor ? `&cursor=${cursor}` : ''}`)).json();
        assert.ok(page.items.length <= 2);
        seen.push(...page.items.map((e) => e.id));
        cursor = page.nextCursor;
      } while (cursor);
      assert.deepEqual(seen, all.map((e: { id: string }) => e.id));
      assert.deepEqual(seen, [...seen].sort().reverse(), 'newest first');
      const day = (await events(a.tenantId, a.adminKey, '?from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z')).json().items;
      assert.deepEqual(day.map((e: { type: string; detail: { role: string } }) => [e.type, e.detail.role]), [['api_key.created', 'viewer']]);
    });

    it('bad queries answer 400 and change nothing', async () => {
      assertProblem(await events(a.tenantId, a.adminKey, '?type=no.such'), 400, 'request.validation_failed');
      assertProblem(await events(a.tenantId, a.adminKey, '?from=yesterday'), 400, 'request.validation_failed');
      assertProblem(await events(a.tenantId, a.adminKey, '?cursor=bm90LWFuLWlk'), 400, 'request.invalid_cursor');
      assertProblem(await events(a.tenantId, a.adminKey, '?limit=0'), 400, 'request.validation_failed');
    });

    it('platform events (operator keys made) are read by operators on /v1/security-events, not by tenants', async () => {
      const made = (await t.call('POST', '/v1/operator-keys', { body: { name: 'second' } })).json();
      const items = (await t.call('GET', '/v1/security-events?type=operator_key.created')).json().items;
      assert.equal(items[0].detail.keyId, made.id);
      assert.equal(items[0].tenantId, null);
      assertProblem(await t.call('GET', '/v1/security-events', { token: a.adminKey }), 403, 'auth.forbidden');
      assert.ok(!(await events(a.tenantId, a.adminKey, '?limit=500')).json().items.some((e: { type: string }) => e.type === 'operator_key.created'));
    });
  });
}
