// A tenant's own password and session policy: stricter than the platform's,
// never weaker, applied to its users' passwords and new sessions.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { startTestApp, seedTenant, type TestApp } from '../helpers/test-app.ts';
import { assertProblem } from '../helpers/problem.ts';
import { asUser, login, manualClock, onboard } from '../helpers/people.ts';

const MINUTE = 60_000;
const platformDefaults = { passwordMinLength: 12, passwordMaxLength: 128, passwordComposition: false, passwordMaxAgeDays: 0,
  passwordHistory: 0, sessionIdleMinutes: 15, sessionAbsoluteMinutes: 720 };

for (const backend of backends) {
  describe(`[${backend}] tenant auth policy`, () => {
    let t: TestApp;
    const clock = manualClock();
    let a: Awaited<ReturnType<typeof seedTenant>>;
    let b: Awaited<ReturnType<typeof seedTenant>>;
    const policyOf = (tenantId: string) => `/v1/tenants/${tenantId}/auth-policy`;
    before(async () => {
      t = await startTestApp(backend, { now: clock.now });
      a = await seedTenant(t, 'Strict');
      b = await seedTenant(t, 'Other');
    });
    after(() => t.close());

    test('without overrides the platform\'s policy is in force', async () => {
      const res = await t.call('GET', policyOf(a.tenantId), { token: a.adminKey });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json().effective, platformDefaults);
      assert.ok(Object.values(res.json().overrides).every((v) => v === null));
    });

    test('only owners and admins of the tenant set it; bad values are refused and change nothing', async () => {
      const viewer = (await t.call('POST', `/v1/tenants/${a.tenantId}/api-keys`, { body: { name: 'viewer', role: 'viewer' } })).json().key;
      assertProblem(await t.call('PUT', policyOf(a.tenantId), { token: viewer, body: { passwordMinLength: 20 } }), 403, 'auth.forbidden');
      assertProblem(await t.call('PUT', policyOf(a.tenantId), { token: b.adminKey, body: { passwordMinLength: 20 } }), 404, 'tenant.not_found');
      assertProblem(await t.call('PUT', policyOf(a.tenantId), { token: a.adminKey, body: { passwordMinLength: 7 } }), 400, 'request.validation_failed');
      assertProblem(await t.call('PUT', policyOf(a.tenantId), { token: a.adminKey, body: { sessionIdleMinutes: 0 } }), 400, 'request.validation_failed');
      assertProblem(await t.call('PUT', policyOf(a.tenantId), { token: a.adminKey, body: { twoFactor: false } }), 400, 'request.validation_failed');
      assert.deepEqual((await t.call('GET', policyOf(a.tenantId), { token: a.adminKey })).json().effective, platformDefaults);
    });

    test('a tenant can make the rules stricter, never weaker', async () => {
      const res = await t.call('PUT', policyOf(b.tenantId), { token: b.adminKey, body: { passwordMinLength: 8, sessionIdleMinutes: 60 } });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().overrides.passwordMinLength, 8);
      assert.equal(res.json().effective.passwordMinLength, 12, 'the platform\'s 12 still applies');
      assert.equal(res.json().effective.sessionIdleMinutes, 15, 'the platform\'s 15 minutes still apply');
    });

    test('stricter rules apply to the tenant\'s passwords and new sessions, and the change is a security event', async () => {
      const res = await t.call('PUT', policyOf(a.tenantId), { token: a.adminKey, body: { passwordMinLength: 30, sessionIdleMinutes: 5 } });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().effective.passwordMinLength, 30);
      assert.equal(res.json().effective.sessionIdleMinutes, 5);

      // 25 characters: enough for the platform, too short for this tenant.
      const invited = await t.call('POST', `/v1/tenants/${a.tenantId}/users`, { token: a.adminKey, body: { email: 'short@example.com', role: 'viewer' } });
      const body = assertProblem(await asUser(t, 'POST', '/v1/auth/invitations/accept', null,
        { token: invited.json().invitation.token, password: 'violet harbour lantern 42' }), 422, 'auth.password_rejected');
      assert.deepEqual(body.problems.map((p: { code: string }) => p.code), ['password.too_short']);

      const password = 'violet harbour lantern 42 and a quiet river';
      const user = await onboard(t, clock, a.tenantId, { email: 'strict@example.com', role: 'viewer', inviter: a.adminKey, password });
      const s = await login(t, clock, a.tenantId, 'strict@example.com', user.secret, password);
      clock.advance(4 * MINUTE);
      assert.equal((await asUser(t, 'GET', '/v1/auth/me', s)).statusCode, 200);
      clock.advance(6 * MINUTE);
      assertProblem(await asUser(t, 'GET', '/v1/auth/me', s), 401, 'auth.invalid_credentials');

      const events = (await t.call('GET', `/v1/tenants/${a.tenantId}/security-events?type=auth_policy.changed`, { token: a.adminKey })).json().items;
      assert.equal(events.length, 1, 'the refused changes left no event');
      assert.equal(events[0].detail.passwordMinLength, 30);
    });
  });
}
