import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { startTestApp, seedTenant, type TestApp } from '../helpers/test-app.ts';
import { assertProblem } from '../helpers/problem.ts';
import { asUser, login, manualClock, onboard } from '../helpers/people.ts';

for (const backend of backends) {
  describe(`[${backend}] users`, () => {
    let t: TestApp;
    const clock = manualClock();
    let tenantId: string;
    let owner: Awaited<ReturnType<typeof onboard>>;
    let adminKey: string;
    before(async () => {
      t = await startTestApp(backend, { now: clock.now });
      ({ tenantId, adminKey } = await seedTenant(t));
      owner = await onboard(t, clock, tenantId, { email: 'owner@example.com', role: 'owner' });
    });
    after(() => t.close());

    const users = () => `/v1/tenants/${tenantId}/users`;

    test('the operator invites only a tenant\'s first owner', async () => {
      assertProblem(await t.call('POST', users(), { body: { email: 'second@example.com', role: 'owner' } }), 403, 'user.role_not_grantable');
      assertProblem(await t.call('POST', users(), { body: { email: 'ed@example.com', role: 'editor' } }), 403, 'user.role_not_grantable');
      assertProblem(await t.call('GET', users()), 403, 'auth.forbidden');
    });

    test('one account per person: e-mails are unique per tenant, compared trimmed and case-folded', async () => {
      assertProblem(await t.call('POST', users(), { token: adminKey, body: { email: 'OWNER@Example.COM', role: 'viewer' } }), 409, 'user.email_taken');
      const other = await seedTenant(t, 'Other');
      const there = await t.call('POST', `/v1/tenants/${other.tenantId}/users`, { token: other.adminKey, body: { email: 'owner@example.com', role: 'viewer' } });
      assert.equal(there.statusCode, 201, there.body);
    });

    test('an editor cannot grant itself admin; an admin cannot make owners', async () => {
      const editor = await onboard(t, clock, tenantId, { email: 'editor@example.com', role: 'editor', inviter: adminKey });
      const escalate = await asUser(t, 'PATCH', `${users()}/${editor.userId}`, editor.session, { role: 'admin' });
      assertProblem(escalate, 403, 'auth.forbidden');
      const admin = await onboard(t, clock, tenantId, { email: 'admin@example.com', role: 'admin', inviter: adminKey });
      assertProblem(await asUser(t, 'PATCH', `${users()}/${admin.userId}`, admin.session, { role: 'owner' }), 403, 'user.role_not_grantable');
      assertProblem(await asUser(t, 'PATCH', `${users()}/${owner.userId}`, admin.session, { status: 'deactivated' }), 403, 'user.role_not_grantable');
      const me = await asUser(t, 'GET', '/v1/auth/me', editor.session);
      assert.equal(me.json().user.role, 'editor');
    });

    test('an admin of tenant A acting on tenant B gets 404', async () => {
      const admin = (await onboard(t, clock, tenantId, { email: 'admin-a@example.com', role: 'admin', inviter: adminKey })).session;
      const other = await seedTenant(t, 'Third');
      assertProblem(await asUser(t, 'POST', `/v1/tenants/${other.tenantId}/users`, admin, { email: 'x@example.com', role: 'viewer' }), 404, 'tenant.not_found');
      assertProblem(await asUser(t, 'GET', `/v1/tenants/${other.tenantId}/users`, admin), 404, 'tenant.not_found');
    });

    test('a deactivated user\'s live session is refused on its next request, and it cannot log in', async () => {
      const viewer = await onboard(t, clock, tenantId, { email: 'leaver@example.com', role: 'viewer', inviter: adminKey });
      assert.equal((await asUser(t, 'GET', `/v1/tenants/${tenantId}/collections`, viewer.session)).statusCode, 200);
      const off = await asUser(t, 'PATCH', `${users()}/${viewer.userId}`, owner.session, { status: 'deactivated' });
      assert.equal(off.statusCode, 200, off.body);
      assert.equal(off.json().status, 'deactivated');
      assertProblem(await asUser(t, 'GET', `/v1/tenants/${tenantId}/collections`, viewer.session), 401, 'auth.invalid_credentials');
      clock.advance(30_000);
      assertProblem(await asUser(t, 'POST', '/v1/auth/login', null, { tenantId, email: 'leaver@example.com', password: viewer.password }), 401, 'auth.login_failed');
      const back = await asUser(t, 'PATCH', `${users()}/${viewer.userId}`, owner.session, { status: 'active' });
      assert.equal(back.json().status, 'active');
      await login(t, clock, tenantId, 'leaver@example.com', viewer.secret);
    });

    test('a role change ends the user\'s sessions; the new login carries the new role', async () => {
      const u = await onboard(t, clock, tenantId, { email: 'mover@example.com', role: 'viewer', inviter: adminKey });
      const changed = await asUser(t, 'PATCH', `${users()}/${u.userId}`, owner.session, { role: 'editor' });
      assert.equal(changed.json().role, 'editor');
      assertProblem(await asUser(t, 'GET', '/v1/auth/me', u.session), 401, 'auth.invalid_credentials');
      const again = await login(t, clock, tenantId, 'mover@example.com', u.secret);
      assert.equal((await asUser(t, 'GET', '/v1/auth/me', again)).json().user.role, 'editor');
    });

    test('the last active owner cannot be demoted or deactivated', async () => {
      assertProblem(await asUser(t, 'PATCH', `${users()}/${owner.userId}`, owner.session, { role: 'admin' }), 409, 'user.last_owner');
      assertProblem(await asUser(t, 'PATCH', `${users()}/${owner.userId}`, owner.session, { status: 'deactivated' }), 409, 'user.last_owner');
    });

    test('a 2FA reset (by the operator) makes the user enrol again', async () => {
      const u = await onboard(t, clock, tenantId, { email: 'lost-phone@example.com', role: 'viewer', inviter: adminKey });
      const reset = await t.call('POST', `${users()}/${u.userId}/mfa-reset`);
      assert.equal(reset.statusCode, 200, reset.body);
      assert.equal(reset.json().mfaEnrolled, false);
      assertProblem(await asUser(t, 'GET', '/v1/auth/me', u.session), 401, 'auth.invalid_credentials');
      clock.advance(30_000);
      const next = await asUser(t, 'POST', '/v1/auth/login', null, { tenantId, email: 'lost-phone@example.com', password: u.password });
      assert.equal(next.json().status, 'mfa_enrollment_required');
    });

    test('a password reset token works once and for 30 minutes', async () => {
      const u = await onboard(t, clock, tenantId, { email: 'forgetful@example.com', role: 'viewer', inviter: adminKey });
      const issue = () => t.call('POST', `${users()}/${u.userId}/password-reset`, { token: adminKey });
      const first = await issue();
      assert.equal(first.statusCode, 201, first.body);
      clock.advance(31 * 60_000);
      assertProblem(await asUser(t, 'POST', '/v1/auth/password/reset', null, { token: first.json().token, newPassword: 'quiet meadow falcon 3' }), 401, 'auth.token_invalid');
      const { token } = (await issue()).json();
      const done = await asUser(t, 'POST', '/v1/auth/password/reset', null, { token, newPassword: 'quiet meadow falcon 3' });
      assert.equal(done.statusCode, 204, done.body);
      assertProblem(await asUser(t, 'POST', '/v1/auth/password/reset', null, { token, newPassword: 'quiet meadow falcon 4' }), 401, 'auth.token_invalid');
      assertProblem(await asUser(t, 'GET', '/v1/auth/me', u.session), 401, 'auth.invalid_credentials');
      await login(t, clock, tenantId, 'forgetful@example.com', u.secret, 'quiet meadow falcon 3');
    });

    test('platform users log in without a tenant and manage tenants, never tenant data', async () => {
      const op = await onboard(t, clock, null, { email: 'ops@example.com', role: 'operator' });
      assert.equal((await asUser(t, 'GET', '/v1/tenants', op.session)).statusCode, 200);
      assertProblem(await asUser(t, 'GET', `/v1/tenants/${tenantId}/collections`, op.session), 403, 'auth.forbidden');
      await login(t, clock, null, 'ops@example.com', op.secret);
    });

  });
}
