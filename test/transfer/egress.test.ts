// The egress module against real listeners on 127.0.0.1, allowlisted with
// different country tags: what leaves, what is refused (allowlist, EU/EEA,
// internal addresses, redirects), and the transfer log the tenant reads.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends, testConfig } from '../helpers/backends.ts';
import { type TestApp, seedTenant, startTestApp } from '../helpers/test-app.ts';
import { type Listener, listen } from '../helpers/listeners.ts';
import { TransferError, isPublicAddress } from '../../src/transfer/egress.ts';

interface Transfer { destination: string | null; country: string | null; purpose: string; bytes: number; outcome: string; reason: string | null; status: number | null }

describe('egress allowlist configuration', () => {
  it('takes CC url-prefix [internal] entries and names a bad entry by its position only', () => {
    assert.doesNotThrow(() => testConfig('/tmp/x', { TRESOR_EGRESS_ALLOW: 'DE https://siem.example.eu/, US http://10.0.0.5:9000/in internal' }));
    assert.throws(() => testConfig('/tmp/x', { TRESOR_EGRESS_ALLOW: 'de https://siem.example.eu/' }), /entry 1: must start with a two-letter/);
    assert.throws(() => testConfig('/tmp/x', { TRESOR_EGRESS_ALLOW: 'DE https://a.example/, DE ftp://files.example/' }), /entry 2: the prefix must be an http\(s\) URL/);
    assert.throws(() => testConfig('/tmp/x', { TRESOR_EGRESS_ALLOW: 'DE https://user:secret@a.example/' }), (err: Error) => !err.message.includes('secret'));
    assert.throws(() => testConfig('/tmp/x', { TRESOR_EGRESS_ALLOW: 'DE https://a.example/ private' }), /only the flag 'internal'/);
  });

  it('counts only global unicast addresses as public', () => {
    for (const a of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '::1', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '::']) {
      assert.equal(isPublicAddress(a), false, a);
    }
    for (const a of ['93.184.216.34', '2a00:1450:4001:82b::200e', '::ffff:93.184.216.34']) assert.equal(isPublicAddress(a), true, a);
  });
});

for (const backend of backends) {
  describe(`egress [${backend}]`, () => {
    let t: TestApp;
    let de: Listener, us: Listener, plain: Listener, redirecting: Listener;
    let a: Awaited<ReturnType<typeof seedTenant>>;
    before(async () => {
      [de, us, plain, redirecting] = await Promise.all([listen(), listen(), listen(), listen()]);
      redirecting.answer = (res) => res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      t = await startTestApp(backend, { env: { TRESOR_EGRESS_ALLOW: [
        `DE ${de.origin}/hooks internal`, `US ${us.origin}/ internal`, `DE ${plain.origin}/`, `FR ${redirecting.origin}/ internal`,
        `DE ${plain.origin.replace('127.0.0.1', 'localhost')}/`, 'DE http://169.254.169.254/',
      ].join(', ') } });
      a = await seedTenant(t, 'Egress');
    });
    after(async () => { await t.close(); await Promise.all([de, us, plain, redirecting].map((l) => l.close())); });

    const send = (url: string, body = '{"n":1}') => t.services.egress.send({ tenantId: a.tenantId, purpose: 'test_delivery', url, body,
      headers: { 'content-type': 'application/json' } });
    const refusedWith = async (p: Promise<unknown>, code: string) => {
      await assert.rejects(p, (err: unknown) => err instanceof TransferError && err.code === code);
    };
    const transfers = async (): Promise<Transfer[]> => {
      const res = await t.call('GET', `/v1/tenants/${a.tenantId}/audit?action=transfer&limit=500`, { token: a.adminKey });
      assert.equal(res.statusCode, 200);
      return (res.json().items as { entry: { detail: Transfer } }[]).map((i) => i.entry.detail).reverse();
    };

    it('an allowlisted EU destination receives the body, and the tenant reads the transfer in its log', async () => {
      const r = await send(`${de.origin}/hooks/one`);
      assert.deepEqual([r.status, r.country, r.bytes], [204, 'DE', 7]);
      assert.deepEqual(de.received.map((x) => [x.path, x.body]), [['/hooks/one', '{"n":1}']]);
      const last = (await transfers()).at(-1)!;
      assert.deepEqual(last, { destination: de.origin, country: 'DE', purpose: 'test_delivery', bytes: 7, outcome: 'sent', reason: null, status: 204, mechanism: null });
    });

    it('a path outside the allowlisted prefix, or an unlisted host, is refused and logged without connecting', async () => {
      await refusedWith(send(`${de.origin}/hooksmith`), 'transfer.destination_not_allowed');
      await refusedWith(send('http://127.0.0.2:9/'), 'transfer.destination_not_allowed');
      assert.equal(de.received.length, 1);
      const [x, y] = (await transfers()).slice(-2);
      assert.deepEqual([x.outcome, x.reason, x.bytes, y.outcome, y.destination], ['refused', 'not_allowlisted', 0, 'refused', 'http://127.0.0.2:9']);
    });

    it('a destination outside the EU/EEA is refused when the instruction names no transfer mechanism', async () => {
      await refusedWith(send(`${us.origin}/in`), 'transfer.outside_eea');
      assert.equal(us.received.length, 0);
      const last = (await transfers()).at(-1)!;
      assert.deepEqual([last.outcome, last.reason, last.country], ['refused', 'outside_eea', 'US']);
    });

    it('loopback and link-local destinations not allowlisted as internal are refused (literal IP and a name resolving to 127.0.0.1)', async () => {
      await refusedWith(send(`${plain.origin}/x`), 'transfer.address_forbidden');
      await refusedWith(send(`${plain.origin.replace('127.0.0.1', 'localhost')}/x`), 'transfer.address_forbidden');
      await refusedWith(send('http://169.254.169.254/latest/meta-data/'), 'transfer.address_forbidden');
      assert.equal(plain.received.length, 0);
      const last3 = (await transfers()).slice(-3);
      assert.deepEqual(last3.map((x) => [x.outcome, x.reason]), Array(3).fill(['refused', 'address_forbidden']));
    });

    it('a redirect is not followed: the metadata address is never asked', async () => {
      await refusedWith(send(`${redirecting.origin}/hook`), 'transfer.redirect_refused');
      assert.equal(redirecting.received.length, 1);
      const last = (await transfers()).at(-1)!;
      assert.deepEqual([last.outcome, last.reason, last.status ?? null, last.country], ['refused', 'redirect', 302, 'FR']);
    });

    it('a destination that fails is logged as failed, a stream is counted byte by byte', async () => {
      de.answer = (res) => res.writeHead(500).end('no');
      await refusedWith(send(`${de.origin}/hooks/err`), 'transfer.failed');
      de.answer = undefined;
      async function* chunks() { yield Buffer.from('a'.repeat(1000)); yield Buffer.from('b'.repeat(24)); }
      const r = await t.services.egress.send({ tenantId: a.tenantId, purpose: 'test_stream', url: `${de.origin}/hooks/stream`, body: chunks() });
      assert.equal(r.bytes, 1024);
      assert.equal(de.received.at(-1)!.body.length, 1024);
      const [failed, sent] = (await transfers()).slice(-2);
      assert.deepEqual([failed.outcome, failed.reason, failed.status], ['failed', 'status', 500]);
      assert.deepEqual([sent.outcome, sent.bytes, sent.purpose], ['sent', 1024, 'test_stream']);
    });

    it('the transfer log holds no body value and no URL path', async () => {
      await send(`${de.origin}/hooks/secret-token-path`, '{"email":"ada@example.com"}');
      const raw = JSON.stringify(await transfers());
      assert.ok(!raw.includes('ada@example.com'));
      assert.ok(!raw.includes('secret-token-path'));
    });
  });
}
