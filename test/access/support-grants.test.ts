// Break-glass support access: support asks, the tenant's owner approves (or
// pre-authorised support), support reads as a viewer (masked) until the grant
// ends by itself; each step is a security event the owner can read.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { type TestApp, seedTenant, startTestApp } from '../helpers/test-app.ts';
import { assertProblem } from '../helpers/problem.ts';

for (const backend of backends) {
  describe(`support grants [${backend}]`, () => {
    let t: TestApp;
    let a: Awaited<ReturnType<typeof seedTenant>>;
    let b: Awaited<ReturnType<typeof seedTenant>>;
    let clock = new Date('2026-05-01T08:00:00.000Z');
    let support: string;
    let ownerA: string;
    let ownerB: string;
    let recordId: string;
    const grants = (tenantId: string) => `/v1/tenants/${tenantId}/support-grants`;
    const ask = (tenantId: string, body: unknown, token = support) => t.call('POST', grants(tenantId), { token, body });
    const readRecord = (token = support) => t.call('GET', `${a.base}/${recordId}`, { token });
    const eventTypes = async (tenantId: string, token: string) =>
      (await t.call('GET', `/v1/tenants/${tenantId}/security-events?type=support_grant.requested,support_grant.approved,support_grant.used,support_settings.changed`,
        { token })).json().items.map((e: { type: string }) => e.type).reverse();

    before(async () => {
      t = await startTestApp(backend, { now: () => clock });
      a = await seedTenant(t, 'Support A');
      b = await seedTenant(t, 'Support B');
      support = (await t.call('POST', '/v1/operator-keys', { body: { name: 'helpdesk', role: 'support' } })).json().key;
      ownerA = (await t.call('POST', `/v1/tenants/${a.tenantId}/api-keys`, { body: { name: 'owner', role: 'owner' } })).json().key;
      ownerB = (await t.call('POST', `/v1/tenants/${b.tenantId}/api-keys`, { body: { name: 'owner', role: 'owner' } })).json().key;
      recordId = (await t.call('POST', a.base, { token: a.adminKey, body: { data: { email: 'grace@example.com', name: 'Grace Hopper' } } })).json().id;
    });
    after(() => t.close());

    it('support without a grant is refused tenant data (403)', async () => {
      assertProblem(await readRecord(), 403, 'auth.forbidden');
      assertProblem(await t.call('GET', `/v1/tenants/${a.tenantId}/collections`, { token: support }), 403, 'auth.forbidden');
    });

    it('bad requests answer 400 and change nothing: no reason, more than 4 hours, no minutes, extra fields', async () => {
      assertProblem(await ask(a.tenantId, { minutes: 30 }), 400, 'request.validation_failed');
      assertProblem(await ask(a.tenantId, { reason: '', minutes: 30 }), 400, 'request.validation_failed');
      assertProblem(await ask(a.tenantId, { reason: 'ticket 1', minutes: 241 }), 400, 'request.validation_failed');
      assertProblem(await ask(a.tenantId, { reason: 'ticket 1', minutes: 0 }), 400, 'request.validation_failed');
      assertProblem(await ask(a.tenantId, { reason: 'ticket 1' }), 400, 'request.validation_failed');
      assertProblem(await ask(a.tenantId, { reason: 'ticket 1', minutes: 30, role: 'admin' }), 400, 'request.validation_failed');
      assert.deepEqual((await t.call('GET', grants(a.tenantId), { token: ownerA })).json().items, []);
    });

    it('only support asks; a tenant that does not exist answers 404', async () => {
      assertProblem(await ask(a.tenantId, { reason: 'x', minutes: 30 }, ownerA), 403, 'auth.forbidden');
      assertProblem(await ask(a.tenantId, { reason: 'x', minutes: 30 }, t.operatorKey), 403, 'auth.forbidden');
      assertProblem(await ask('01900000-0000-7000-8000-000000000000', { reason: 'x', minutes: 30 }), 404, 'tenant.not_found');
    });

    it('a pending grant gives nothing; only the tenant\'s owner approves; support then reads masked, never writes, until it expires', async () => {
      const asked = await ask(a.tenantId, { reason: 'ticket 4711', minutes: 60 });
      assert.equal(asked.statusCode, 201, asked.body);
      const grant = asked.json();
      assert.equal(grant.status, 'pending');
      assert.equal(grant.expiresAt, null);
      assertProblem(await readRecord(), 403, 'auth.forbidden');

      const approve = (token: string, tenantId = a.tenantId) => t.call('POST', `${grants(tenantId)}/${grant.id}/approve`, { token });
      assertProblem(await approve(a.adminKey), 403, 'auth.forbidden');
      assertProblem(await approve(support), 403, 'auth.forbidden');
      assertProblem(await approve(ownerB), 404, 'tenant.not_found');
      assertProblem(await approve(ownerB, b.tenantId), 404, 'support_grant.not_found');
      const approved = await approve(ownerA);
      assert.equal(approved.statusCode, 200, approved.body);
      assert.equal(approved.json().status, 'active');
      assert.equal(approved.json().expiresAt, new Date(clock.getTime() + 60 * 60_000).toISOString());
      assertProblem(await approve(ownerA), 409, 'support_grant.not_pending');

      const read = await readRecord();
      assert.equal(read.statusCode, 200, read.body);
      assert.equal(read.json().data.email, 'grace@example.com', 'the seeded collection masks nothing');
      assertProblem(await t.call('PATCH', `${a.base}/${recordId}`, { token: support, body: { data: { name: 'X' } } }), 403, 'auth.forbidden');
      assertProblem(await t.call('GET', `/v1/tenants/${a.tenantId}/security-events`, { token: support }), 403, 'auth.forbidden');
      assertProblem(await t.call('GET', `${b.base}/${recordId}`, { token: support }), 403, 'auth.forbidden');

      clock = new Date(clock.getTime() + 60 * 60_000);
      assertProblem(await readRecord(), 403, 'auth.forbidden');
      assert.equal((await t.call('GET', grants(a.tenantId), { token: ownerA })).json().items[0].status, 'expired');
      // Every request under the grant is recorded, the refused write and event read too (and those as access.denied).
      assert.deepEqual(await eventTypes(a.tenantId, ownerA),
        ['support_grant.requested', 'support_grant.approved', 'support_grant.used', 'support_grant.used', 'support_grant.used']);
      const denied = (await t.call('GET', `/v1/tenants/${a.tenantId}/security-events?type=access.denied`, { token: ownerA })).json().items;
      assert.deepEqual(denied.slice(0, 2).map((e: { detail: { action: string }; actor: { role: string } }) => [e.detail.action, e.actor.role]),
        [['security_events.read', 'viewer'], ['records.write', 'viewer']]);
    });

    it('support reads masked fields masked under a grant', async () => {
      const res = await t.call('POST', `/v1/tenants/${a.tenantId}/collections`, { token: a.adminKey,
        body: { name: 'masked', fields: [{ name: 'email', type: 'email', mask: 'partial' }] } });
      assert.equal(res.statusCode, 201, res.body);
      const id = (await t.call('POST', `/v1/tenants/${a.tenantId}/collections/masked/records`, { token: a.adminKey,
        body: { data: { email: 'grace@example.com' } } })).json().id;
      const grant = (await ask(a.tenantId, { reason: 'ticket 4712', minutes: 240 })).json();
      await t.call('POST', `${grants(a.tenantId)}/${grant.id}/approve`, { token: ownerA });
      const read = await t.call('GET', `/v1/tenants/${a.tenantId}/collections/masked/records/${id}`, { token: support });
      assert.deepEqual(read.json().data, { email: 'g***@example.com' });
    });

    it('a tenant that pre-authorised support is entered at once, still recorded; only its owner sets that', async () => {
      assertProblem(await t.call('PUT', `/v1/tenants/${b.tenantId}/support-settings`, { token: b.adminKey, body: { preauthorized: true } }), 403, 'auth.forbidden');
      const set = await t.call('PUT', `/v1/tenants/${b.tenantId}/support-settings`, { token: ownerB, body: { preauthorized: true } });
      assert.deepEqual(set.json(), { preauthorized: true });
      const grant = (await ask(b.tenantId, { reason: 'ticket 9', minutes: 15 })).json();
      assert.equal(grant.status, 'active');
      assert.equal((await t.call('GET', `/v1/tenants/${b.tenantId}`, { token: support })).statusCode, 200);
      assert.deepEqual(await eventTypes(b.tenantId, ownerB), ['support_settings.changed', 'support_grant.requested', 'support_grant.approved', 'support_grant.used']);
      const approvedEvent = (await t.call('GET', `/v1/tenants/${b.tenantId}/security-events?type=support_grant.approved`, { token: ownerB })).json().items[0];
      assert.equal(approvedEvent.detail.preauthorized, true);
    });
  });
}
