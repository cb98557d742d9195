import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { startTestApp, seedTenant, type TestApp } from '../helpers/test-app.ts';
import { assertProblem } from '../helpers/problem.ts';
import { asUser, login, manualClock, onboard } from '../helpers/people.ts';

const MINUTE = 60_000;

for (const backend of backends) {
  describe(`[${backend}] sessions`, () => {
    let t: TestApp;
    const clock = manualClock();
    let tenantId: string;
    let base: string;
    let owner: Awaited<ReturnType<typeof onboard>>;
    before(async () => {
      t = await startTestApp(backend, { now: clock.now });
      ({ tenantId, base } = await seedTenant(t));
      owner = await onboard(t, clock, tenantId, { email: 'owner@example.com', role: 'owner' });
    });
    after(() => t.close());

    const record = { data: { email: 'c@example.com', name: 'Customer' } };
    const fresh = () => login(t, clock, tenantId, 'owner@example.com', owner.secret);

    test('a cookie write needs the CSRF token; with it the write goes through', async () => {
      const s = await fresh();
      assertProblem(await asUser(t, 'POST', base, { cookie: s.cookie }, record), 403, 'auth.csrf_failed');
      assertProblem(await asUser(t, 'POST', base, { cookie: s.cookie, csrfToken: 'tcsrf_wrong' }, record), 403, 'auth.csrf_failed');
      assert.equal((await t.call('GET', `${base}?limit=10`, { token: (await seedKey()) })).json().items.length, 0);
      const created = await asUser(t, 'POST', base, s, record);
      assert.equal(created.statusCode, 201, created.body);
      const read = await asUser(t, 'GET', `${base}/${created.json().id}`, { cookie: s.cookie });
      assert.equal(read.statusCode, 200);
    });

    test('a forged or unknown session token is refused', async () => {
      assertProblem(await asUser(t, 'GET', '/v1/auth/me', { cookie: '__Host-tresor=tses_forged' }), 401, 'auth.invalid_credentials');
      assertProblem(await asUser(t, 'GET', '/v1/auth/me', { cookie: `__Host-tresor=tses_${'A'.repeat(43)}` }), 401, 'auth.invalid_credentials');
      assertProblem(await asUser(t, 'GET', '/v1/auth/me', null), 401, 'auth.missing_credentials');
    });

    test('the idle timeout (15 min) ends an unused session; use keeps it alive', async () => {
      const s = await fresh();
      clock.advance(14 * MINUTE);
      assert.equal((await asUser(t, 'GET', '/v1/auth/me', s)).statusCode, 200);
      clock.advance(14 * MINUTE);
      assert.equal((await asUser(t, 'GET', '/v1/auth/me', s)).statusCode, 200);
      clock.advance(15 * MINUTE);
      assertProblem(await asUser(t, 'GET', '/v1/auth/me', s), 401, 'auth.invalid_credentials');
    });

    test('the absolute timeout (12 h) ends a session however busy', async () => {
      const s = await fresh();
      for (let elapsed = 0; elapsed < 12 * 60 * MINUTE - 10 * MINUTE; elapsed += 10 * MINUTE) {
        clock.advance(10 * MINUTE);
        assert.equal((await asUser(t, 'GET', '/v1/auth/me', s)).statusCode, 200);
      }
      clock.advance(10 * MINUTE);
      assertProblem(await asUser(t, 'GET', '/v1/auth/me', s), 401, 'auth.invalid_credentials');
    });

    test('a session of tenant A on tenant B answers 404', async () => {
      const s = await fresh();
      const other = await seedTenant(t, 'Other');
      assertProblem(await asUser(t, 'GET', `/v1/tenants/${other.tenantId}/collections`, s), 404, 'tenant.not_found');
      assertProblem(await asUser(t, 'GET', `/v1/tenants/${other.tenantId}/users`, s), 404, 'tenant.not_found');
    });

    test('sessions list, logout and logout everywhere', async () => {
      const a = await fresh();
      const b = await fresh();
      const list = await asUser(t, 'GET', '/v1/auth/sessions', a);
      assert.equal(list.statusCode, 200);
      assert.ok(list.json().items.length >= 2);
      assert.equal(list.json().items.filter((s: { current: boolean }) => s.current).length, 1);
      assertProblem(await asUser(t, 'POST', '/v1/auth/logout', { cookie: a.cookie }), 403, 'auth.csrf_failed');
      const out = await asUser(t, 'POST', '/v1/auth/logout', a);
      assert.equal(out.statusCode, 204);
      assert.match(String(out.headers['set-cookie']), /^__Host-tresor=; .*Max-Age=0/);
      assertProblem(await asUser(t, 'GET', '/v1/auth/me', a), 401, 'auth.invalid_credentials');
      assert.equal((await asUser(t, 'GET', '/v1/auth/me', b)).statusCode, 200);
      assert.equal((await asUser(t, 'POST', '/v1/auth/logout-all', b)).statusCode, 204);
      assertProblem(await asUser(t, 'GET', '/v1/auth/me', b), 401, 'auth.invalid_credentials');
    });

    test('session routes take no API key', async () => {
      assertProblem(await t.call('GET', '/v1/auth/me', { token: await seedKey() }), 401, 'auth.missing_credentials');
    });

    test('changing the password ends the other sessions and keeps this one', async () => {
      const a = await fresh();
      const b = await fresh();
      const wrong = await asUser(t, 'POST', '/v1/auth/password', a, { currentPassword: 'not it at all', newPassword: 'amber quarry solstice 7' });
      assertProblem(wrong, 403, 'auth.wrong_password');
      const changed = await asUser(t, 'POST', '/v1/auth/password', a, { currentPassword: owner.password, newPassword: 'amber quarry solstice 7' });
      assert.equal(changed.statusCode, 204, changed.body);
      assert.equal((await asUser(t, 'GET', '/v1/auth/me', a)).statusCode, 200);
      assertProblem(await asUser(t, 'GET', '/v1/auth/me', b), 401, 'auth.invalid_credentials');
      await login(t, clock, tenantId, 'owner@example.com', owner.secret, 'amber quarry solstice 7');
    });

    async function seedKey() {
      return (await t.call('POST', `/v1/tenants/${tenantId}/api-keys`, { body: { name: 'admin', role: 'admin' } })).json().key as string;
    }
  });
}
