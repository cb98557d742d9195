import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTresor, tresorDirs, type TresorProcess } from '../../bench/tresor-process.ts';
import { backends, migratedServerStore } from '../helpers/backends.ts';
import { tresor, v8Flags } from './run-cli.ts';

// tresor user create-owner and reset-mfa against a running server, with an operator key.
for (const backend of backends) {
  describe(`tresor user against a running server (${backend})`, () => {
    const dirs = tresorDirs('tresor-user-cli-');
    let server: TresorProcess;
    let store: { env: Record<string, string>; drop: () => Promise<void> } | undefined;
    let tenantId: string;
    let env: Record<string, string>;
    let firstRun = '';
    const api = async (path: string, init: { method?: string; body?: unknown } = {}) => {
      const res = await fetch(`${server.url}${path}`, {
        method: init.method ?? 'GET',
        headers: { authorization: `Bearer ${env.TRESOR_TOKEN}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
        body: init.body ? JSON.stringify(init.body) : undefined,
      });
      return { status: res.status, body: await res.json() };
    };

    before(async () => {
      // A migrated store (a first start on an empty one is test/db/embedded-lock's).
      store = await migratedServerStore(backend, dirs.env.TRESOR_DATA_DIR);
      server = await startTresor({ env: { ...dirs.env, ...store.env }, expectToken: true, nodeArgs: v8Flags });
      env = { TRESOR_URL: server.url, TRESOR_TOKEN: server.token! };
      tenantId = (await api('/v1/tenants', { method: 'POST', body: { name: 'People GmbH' } })).body.id;
    });
    after(async () => { await server?.stop(); await store?.drop(); dirs.remove(); });

    it('create-owner prints an invitation token that the owner can accept; a second owner is refused', async () => {
      const run = await tresor(['user', 'create-owner', '--tenant', tenantId, '--email', 'ada@example.com'], env);
      assert.equal(run.code, 0, run.stderr);
      firstRun = run.stdout;
      const token = run.stdout.trim().split('\n').at(-1)!;
      assert.match(token, /^tinv_[\w-]{43}$/);
      const accepted = await fetch(`${server.url}/v1/auth/invitations/accept`, { method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token, password: 'saffron kettle nebula 9' }) });
      assert.equal(accepted.status, 200);
      assert.match((await accepted.json()).enrollmentToken, /^tenr_/);
      const again = await tresor(['user', 'create-owner', '--tenant', tenantId, '--email', 'bob@example.com', '--json'], env);
      assert.equal(again.code, 1);
      assert.equal(JSON.parse(again.stdout).code, 'user.role_not_grantable');
    });

    it('reset-mfa resets the second factor and is recorded as a security event on the tenant', async () => {
      const ownerId = /\(user ([0-9a-f-]{36})\)/.exec(firstRun)![1];
      const reset = await tresor(['user', 'reset-mfa', '--tenant', tenantId, '--user', ownerId, '--json'], env);
      assert.equal(reset.code, 0, reset.stderr);
      assert.equal(JSON.parse(reset.stdout).mfaEnrolled, false);
      const admin = (await api(`/v1/tenants/${tenantId}/api-keys`, { method: 'POST', body: { name: 'reader', role: 'admin' } })).body.key;
      const events = await fetch(`${server.url}/v1/tenants/${tenantId}/security-events?type=mfa.reset`, { headers: { authorization: `Bearer ${admin}` } });
      const [event] = (await events.json()).items;
      assert.deepEqual({ type: event.type, actor: event.actor.type, userId: event.detail.userId }, { type: 'mfa.reset', actor: 'api_key', userId: ownerId });
    });
  });
}
