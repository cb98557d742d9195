import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { startTestApp, seedTenant, type TestApp } from '../helpers/test-app.ts';
import { assertProblem } from '../helpers/problem.ts';
import { totp } from '../../src/crypto/totp.ts';
import { PASSWORD, asUser, cookieOf, login, manualClock, onboard } from '../helpers/people.ts';

for (const backend of backends) {
  describe(`[${backend}] login with password and TOTP`, () => {
    let t: TestApp;
    const clock = manualClock();
    let tenantId: string;
    let owner: Awaited<ReturnType<typeof onboard>>;
    before(async () => {
      t = await startTestApp(backend, { now: clock.now });
      ({ tenantId } = await seedTenant(t));
      owner = await onboard(t, clock, tenantId, { email: 'Owner@Example.com', role: 'owner' });
    });
    after(() => t.close());

    const loginStep = (body: object) => asUser(t, 'POST', '/v1/auth/login', null, { tenantId, ...body });

    test('the first owner, invited by the operator, enrols and gets a session that reads tenant data', async () => {
      assert.equal(owner.recoveryCodes.length, 10);
      const me = await asUser(t, 'GET', '/v1/auth/me', owner.session);
      assert.equal(me.statusCode, 200, me.body);
      assert.equal(me.json().user.email, 'Owner@Example.com');
      assert.equal(me.json().user.role, 'owner');
      assert.equal(me.json().user.mfaEnrolled, true);
      const collections = await asUser(t, 'GET', `/v1/tenants/${tenantId}/collections`, owner.session);
      assert.equal(collections.statusCode, 200, collections.body);
    });

    test('a password alone never makes a session', async () => {
      clock.advance(30_000);
      const res = await loginStep({ email: 'owner@example.com', password: PASSWORD });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(Object.keys(res.json()).sort(), ['mfaToken', 'status']);
      assert.equal(res.headers['set-cookie'], undefined);
    });

    test('wrong password and unknown user answer alike (status and body)', async () => {
      const wrong = assertProblem(await loginStep({ email: 'owner@example.com', password: 'not the password at all' }), 401, 'auth.login_failed');
      const unknown = assertProblem(await loginStep({ email: 'nobody@example.com', password: 'not the password at all' }), 401, 'auth.login_failed');
      const { requestId: _a, ...w } = wrong;
      const { requestId: _b, ...u } = unknown;
      assert.deepEqual(w, u);
    });

    test('wrong, replayed and expired TOTP codes are refused', async () => {
      const step = async () => (await loginStep({ email: 'owner@example.com', password: PASSWORD })).json().mfaToken as string;
      clock.advance(30_000);
      const wrongCode = (Number(totp(owner.secret, clock.now())) + 1) % 1_000_000;
      assertProblem(await asUser(t, 'POST', '/v1/auth/mfa/verify', null, { mfaToken: await step(), code: String(wrongCode).padStart(6, '0') }), 401, 'auth.mfa_failed');

      clock.advance(30_000);
      const code = totp(owner.secret, clock.now());
      const ok = await asUser(t, 'POST', '/v1/auth/mfa/verify', null, { mfaToken: await step(), code });
      assert.equal(ok.statusCode, 200, ok.body);
      assertProblem(await asUser(t, 'POST', '/v1/auth/mfa/verify', null, { mfaToken: await step(), code }), 401, 'auth.mfa_failed');

      const old = totp(owner.secret, clock.now());
      clock.advance(90_000);
      assertProblem(await asUser(t, 'POST', '/v1/auth/mfa/verify', null, { mfaToken: await step(), code: old }), 401, 'auth.mfa_failed');
    });

    test('a recovery code works once', async () => {
      const step = async () => (await loginStep({ email: 'owner@example.com', password: PASSWORD })).json().mfaToken as string;
      const recoveryCode = owner.recoveryCodes[0];
      const ok = await asUser(t, 'POST', '/v1/auth/mfa/verify', null, { mfaToken: await step(), recoveryCode });
      assert.equal(ok.statusCode, 200, ok.body);
      cookieOf(ok);
      assertProblem(await asUser(t, 'POST', '/v1/auth/mfa/verify', null, { mfaToken: await step(), recoveryCode }), 401, 'auth.mfa_failed');
    });

    test('an mfaToken works once', async () => {
      clock.advance(30_000);
      const mfaToken = (await loginStep({ email: 'owner@example.com', password: PASSWORD })).json().mfaToken;
      assert.equal((await asUser(t, 'POST', '/v1/auth/mfa/verify', null, { mfaToken, code: totp(owner.secret, clock.now()) })).statusCode, 200);
      clock.advance(30_000);
      assertProblem(await asUser(t, 'POST', '/v1/auth/mfa/verify', null, { mfaToken, code: totp(owner.secret, clock.now()) }), 401, 'auth.token_invalid');
    });

    test('an invitation works once', async () => {
      const invited = await t.call('POST', `/v1/tenants/${tenantId}/users`, { token: (await seedTenantKey()), body: { email: 'ed@example.com', role: 'editor' } });
      assert.equal(invited.statusCode, 201, invited.body);
      const token = invited.json().invitation.token;
      assert.equal((await asUser(t, 'POST', '/v1/auth/invitations/accept', null, { token, password: PASSWORD })).statusCode, 200);
      assertProblem(await asUser(t, 'POST', '/v1/auth/invitations/accept', null, { token, password: PASSWORD }), 401, 'auth.token_invalid');
    });

    test('a weak password is refused with the rules it breaks, and the invitation stays usable', async () => {
      const invited = await t.call('POST', `/v1/tenants/${tenantId}/users`, { token: (await seedTenantKey()), body: { email: 'vi@example.com', role: 'viewer' } });
      const token = invited.json().invitation.token;
      const body = assertProblem(await asUser(t, 'POST', '/v1/auth/invitations/accept', null, { token, password: 'password' }), 422, 'auth.password_rejected');
      assert.deepEqual(body.problems.map((p: { code: string }) => p.code), ['password.too_short', 'password.common']);
      assert.ok(!JSON.stringify(body).includes('"password"'));
      assert.equal((await asUser(t, 'POST', '/v1/auth/invitations/accept', null, { token, password: PASSWORD })).statusCode, 200);
    });

    test('ten failures lock the account for 15 minutes; an unknown account locks alike', async () => {
      await login(t, clock, tenantId, 'owner@example.com', owner.secret);
      for (const email of ['owner@example.com', 'ghost@example.com']) {
        for (let i = 0; i < 10; i++) assertProblem(await loginStep({ email, password: 'wrong wrong wrong' }), 401, 'auth.login_failed');
        const locked = assertProblem(await loginStep({ email, password: email === 'ghost@example.com' ? 'x' : PASSWORD }), 429, 'auth.too_many_attempts');
        assert.ok(locked);
      }
      clock.advance(15 * 60_000);
      await login(t, clock, tenantId, 'owner@example.com', owner.secret);
    });

    test('logins, 2FA failures and the lockout are security events, with address and agent but no e-mail or secret', async () => {
      const key = await seedTenantKey();
      const events = async (type: string) =>
        (await t.call('GET', `/v1/tenants/${tenantId}/security-events?type=${type}`, { token: key })).json().items as { detail: Record<string, unknown>; ip: string; actor: { type: string } }[];
      const [ok] = await events('login.succeeded');
      assert.equal(ok.detail.userId, owner.userId);
      assert.equal(ok.ip, '127.0.0.1');
      assert.ok((await events('login.failed')).some((e) => e.detail.userId === owner.userId));
      assert.ok((await events('login.failed')).some((e) => e.detail.userId === null), 'an unknown account is recorded too, without naming it');
      assert.ok((await events('mfa.failed')).some((e) => e.detail.userId === owner.userId));
      assert.ok((await events('account.locked')).some((e) => e.detail.userId === owner.userId));
      const all = JSON.stringify(await (await t.call('GET', `/v1/tenants/${tenantId}/security-events?limit=500`, { token: key })).json());
      assert.doesNotMatch(all, /example\.com|violet harbour|tses_|tmfa_/i);
    });

    async function seedTenantKey() {
      return (await t.call('POST', `/v1/tenants/${tenantId}/api-keys`, { body: { name: 'admin', role: 'admin' } })).json().key as string;
    }
  });
}
