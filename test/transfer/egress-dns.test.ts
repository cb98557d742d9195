// Issue 11, "bad input and attacks": a destination NAME that resolves to
// 169.254.169.254 or 127.0.0.1 is refused. Egress asks a real DNS server on
// loopback (TRESOR_EGRESS_DNS_SERVERS) whose table points allowlisted names at
// the cloud metadata address and at loopback; a name marked `internal`
// reaches a real local listener, which shows the answers are the ones used.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends, testConfig } from '../helpers/backends.ts';
import { type TestApp, seedTenant, startTestApp } from '../helpers/test-app.ts';
import { type Listener, listen } from '../helpers/listeners.ts';
import { type DnsServer, startDnsServer } from '../helpers/dns-server.ts';
import { TransferError } from '../../src/transfer/egress.ts';

describe('TRESOR_EGRESS_DNS_SERVERS', () => {
  it('takes IPs with optional ports and refuses anything else without echoing it', () => {
    assert.doesNotThrow(() => testConfig('/tmp/x', { TRESOR_EGRESS_DNS_SERVERS: '127.0.0.1:5353, 9.9.9.9, [2620:fe::fe]:53' }));
    assert.throws(() => testConfig('/tmp/x', { TRESOR_EGRESS_DNS_SERVERS: 'dns.example.eu' }),
      (err: Error) => /TRESOR_EGRESS_DNS_SERVERS: must be a comma-separated list of IP addresses/.test(err.message) && !err.message.includes('dns.example.eu'));
    assert.throws(() => testConfig('/tmp/x', { TRESOR_EGRESS_DNS_SERVERS: '127.0.0.1:70000' }), /TRESOR_EGRESS_DNS_SERVERS/);
  });
});

for (const backend of backends) {
  describe(`egress names resolved by the configured DNS servers [${backend}]`, () => {
    let t: TestApp;
    let dns: DnsServer;
    let local: Listener;
    let a: Awaited<ReturnType<typeof seedTenant>>;
    let port: string;
    before(async () => {
      [dns, local] = await Promise.all([
        startDnsServer({ 'metadata.example.eu': '169.254.169.254', 'loop.example.eu': '127.0.0.1', 'hooks.example.eu': '127.0.0.1' }), listen()]);
      port = new URL(local.origin).port;
      t = await startTestApp(backend, { env: { TRESOR_EGRESS_DNS_SERVERS: dns.server, TRESOR_EGRESS_ALLOW: [
        'DE http://metadata.example.eu/', `DE http://loop.example.eu:${port}/`, `DE http://hooks.example.eu:${port}/ internal`,
        'DE http://nowhere.example.eu/'].join(', ') } });
      a = await seedTenant(t, 'Egress DNS');
    });
    after(async () => { await t?.close(); await Promise.all([dns?.close(), local?.close()]); });

    const send = (url: string) => t.services.egress.send({ tenantId: a.tenantId, purpose: 'test_delivery', url, body: '{"n":1}',
      headers: { 'content-type': 'application/json' } });
    const failsWith = (code: string, reason: string) => (err: unknown) => err instanceof TransferError && err.code === code && err.reason === reason;
    const lastTransfer = async () => {
      const res = await t.call('GET', `/v1/tenants/${a.tenantId}/audit?action=transfer&limit=1`, { token: a.adminKey });
      assert.equal(res.statusCode, 200);
      return res.json().items[0].entry.detail as { destination: string; outcome: string; reason: string | null; bytes: number };
    };

    it('refuses a name that resolves to the metadata address 169.254.169.254, and logs the refusal', async () => {
      await assert.rejects(send('http://metadata.example.eu/latest/meta-data/'), failsWith('transfer.address_forbidden', 'address_forbidden'));
      assert.ok(dns.queries.includes('metadata.example.eu'), 'the configured DNS server was asked');
      const logged = await lastTransfer();
      assert.deepEqual([logged.destination, logged.outcome, logged.reason, logged.bytes], ['http://metadata.example.eu', 'refused', 'address_forbidden', 0]);
    });

    it('refuses a name that resolves to 127.0.0.1 without connecting to what listens there', async () => {
      await assert.rejects(send(`http://loop.example.eu:${port}/in`), failsWith('transfer.address_forbidden', 'address_forbidden'));
      assert.equal(local.received.length, 0);
      assert.equal((await lastTransfer()).reason, 'address_forbidden');
    });

    it('delivers to a name allowlisted as internal, at the address the DNS server gave', async () => {
      const r = await send(`http://hooks.example.eu:${port}/in`);
      assert.deepEqual([r.status, r.country], [204, 'DE']);
      assert.deepEqual(local.received.map((x) => x.body), ['{"n":1}']);
    });

    it('a name the DNS server does not know fails as dns, and is logged', async () => {
      await assert.rejects(send('http://nowhere.example.eu/in'), failsWith('transfer.failed', 'dns'));
      const logged = await lastTransfer();
      assert.deepEqual([logged.outcome, logged.reason], ['failed', 'dns']);
    });
  });
}
