// Webhook alerts on lockout and on repeated refusals, posted to a real
// loopback listener; a stalled webhook never holds up a request.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { backends, testConfig } from '../helpers/backends.ts';
import { type TestApp, seedTenant, startTestApp } from '../helpers/test-app.ts';
import { assertProblem } from '../helpers/problem.ts';

interface Hook { url: string; received: unknown[]; stall: boolean; held: ServerResponse[]; next(): Promise<unknown>; close(): Promise<void> }

async function listen(): Promise<Hook> {
  const waiting: ((body: unknown) => void)[] = [];
  const hook: Hook = {
    url: '', received: [], stall: false, held: [],
    next: () => new Promise((resolve) => { waiting.push(resolve); }),
    close: () => new Promise((resolve) => { for (const r of hook.held) r.end(); server.close(() => resolve()); }),
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const parsed = JSON.parse(body);
      hook.received.push(parsed);
      waiting.shift()?.(parsed);
      if (hook.stall) hook.held.push(res); else res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hook.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return hook;
}

describe('alert webhook configuration', () => {
  it('refuses a URL the egress allowlist does not cover, and accepts a covered one', () => {
    assert.throws(() => testConfig('/tmp/x', { TRESOR_SECURITY_ALERT_URL: 'https://alerts.example.net/hook' }), /not covered by TRESOR_EGRESS_ALLOW/);
    assert.throws(() => testConfig('/tmp/x', { TRESOR_SECURITY_ALERT_URL: 'ftp://127.0.0.1/hook' }), /http\(s\) URL/);
    const allow = { TRESOR_EGRESS_ALLOW: 'DE http://127.0.0.1:9/ internal, FR https://siem.example.net/x' };
    assert.equal(testConfig('/tmp/x', { ...allow, TRESOR_SECURITY_ALERT_URL: 'http://127.0.0.1:9/hook' }).securityAlertUrl, 'http://127.0.0.1:9/hook');
    assert.equal(testConfig('/tmp/x', { ...allow, TRESOR_SECURITY_ALERT_URL: 'https://siem.example.net/x' }).securityAlertUrl, 'https://siem.example.net/x');
    assert.throws(() => testConfig('/tmp/x', { ...allow, TRESOR_SECURITY_ALERT_URL: 'https://siem.example.net/xy' }), /not covered/);
  });
});

for (const backend of backends) {
  describe(`security alerts [${backend}]`, () => {
    let t: TestApp;
    let hook: Hook;
    let a: Awaited<ReturnType<typeof seedTenant>>;
    let viewer: { id: string; key: string };
    before(async () => {
      hook = await listen();
      t = await startTestApp(backend, { env: { TRESOR_SECURITY_ALERT_URL: hook.url, TRESOR_EGRESS_ALLOW: `DE ${new URL(hook.url).origin}/ internal`, TRESOR_DENIAL_ALERT_THRESHOLD: '3', TRESOR_SECURITY_ALERT_QUEUE_MAX: '2' } });
      a = await seedTenant(t, 'Alerts');
      viewer = (await t.call('POST', `/v1/tenants/${a.tenantId}/api-keys`, { body: { name: 'viewer', role: 'viewer' } })).json();
    });
    after(async () => { await t.close(); await hook.close(); });

    const refuse = () => t.call('POST', `/v1/tenants/${a.tenantId}/collections`, { token: viewer.key, body: { name: 'x', fields: [] } });

    it('the third refusal of one key raises one repeated_denials alert with ids only', async () => {
      assertProblem(await refuse(), 403, 'auth.forbidden');
      assertProblem(await refuse(), 403, 'auth.forbidden');
      const arrived = hook.next();
      assertProblem(await refuse(), 403, 'auth.forbidden');
      const alert = await arrived as { kind: string; count: number; event: { type: string; tenantId: string; actor: { id: string } } };
      assert.equal(alert.kind, 'repeated_denials');
      assert.equal(alert.count, 3);
      assert.equal(alert.event.type, 'access.denied');
      assert.equal(alert.event.tenantId, a.tenantId);
      assert.equal(alert.event.actor.id, viewer.id);
      assert.ok(!JSON.stringify(alert).includes(viewer.key));
      assert.equal(hook.received.length, 1);
      await t.services.securityAlerts!.idle();
      const log = (await t.call('GET', `/v1/tenants/${a.tenantId}/audit?action=transfer`)).json().items as { entry: { detail: Record<string, unknown> } }[];
      assert.deepEqual(log.map((i) => [i.entry.detail.purpose, i.entry.detail.outcome, i.entry.detail.country]), [['security_alert', 'sent', 'DE']]);
    });

    it('a lockout alerts at once', async () => {
      const arrived = hook.next();
      await t.services.securityEvents.recordAlone({ type: 'account.locked', tenantId: a.tenantId,
        actor: { type: 'user', id: '01900000-0000-7000-8000-00000000beef', name: 'u', role: 'editor', tenantId: a.tenantId, sessionId: 'none' } });
      const alert = await arrived as { kind: string; event: { type: string } };
      assert.deepEqual([alert.kind, alert.event.type], ['event', 'account.locked']);
    });

    it('a webhook that does not answer holds up no request, and the queue stays bounded', async () => {
      hook.stall = true;
      const first = hook.next();
      for (let i = 0; i < 3; i++) assertProblem(await refuse(), 403, 'auth.forbidden');
      await first; // being held by the listener
      for (let i = 0; i < 12; i++) assertProblem(await refuse(), 403, 'auth.forbidden'); // 4 more alerts: 2 queue, 2 dropped
      assert.equal((await t.call('GET', `/v1/tenants/${a.tenantId}`, { token: viewer.key })).statusCode, 200);
      assert.equal(t.services.securityAlerts!.dropped(), 2);
      hook.stall = false;
      for (const r of hook.held.splice(0)) r.end();
    });
  });
}
