// Issue 11, item 4: HTTPS built in. A real `tresor start` with a certificate
// from a CA made here (openssl CLI): TLS 1.2 and 1.3 with Mozilla's
// intermediate ciphers and HSTS; TLS 1.0/1.1, RC4 and 3DES refused by the
// server; the certificate swapped on SIGHUP under load without a failed
// request; plain HTTP on a non-loopback address refused at start, and behind a
// trusted proxy only `X-Forwarded-Proto: https` from that proxy is served.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CliProcess, cleanEnv, freePort, runTresor, waitFor } from '../helpers/security-process.ts';
import { type TestCa, type ServerCert, makeCa, makeServerCert } from '../helpers/tls-certs.ts';
import { clientHello, handshake, httpsGet, serverAnswer, sClient } from '../helpers/tls-probe.ts';
import { backends } from '../helpers/backends.ts';
import { type TestApp, startTestApp } from '../helpers/test-app.ts';

const HSTS = 'max-age=63072000';
// IANA numbers of suites a client library here will no longer send.
const RC4 = [0x0005, 0x0004, 0xc011]; // RC4-SHA, RC4-MD5, ECDHE-RSA-RC4-SHA
const DES3 = [0x000a, 0xc012]; // DES-CBC3-SHA, ECDHE-RSA-DES-CBC3-SHA
const GOOD = [0xc02f]; // ECDHE-RSA-AES128-GCM-SHA256

describe('HTTPS built in: a real server on a real port', { timeout: 480_000 }, () => {
  let dir: string;
  let ca: TestCa;
  let certs: ServerCert[];
  let port: number;
  let server: CliProcess;
  const live = () => ({ cert: join(dir, 'live.crt'), key: join(dir, 'live.key') });
  const install = (cert: ServerCert, key: ServerCert = cert) => { copyFileSync(cert.certFile, live().cert); copyFileSync(key.keyFile, live().key); };
  const env = (extra: Record<string, string>) => cleanEnv({ TRESOR_DATA_DIR: join(dir, 'data'), TRESOR_KEY_FILE: join(dir, 'root.key'),
    PORT: String(port), LOG_LEVEL: 'info', TRESOR_ENVIRONMENT: 'test', ...extra });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tresor-tls-'));
    ca = makeCa(dir);
    certs = [makeServerCert(ca, 'first', '1001'), makeServerCert(ca, 'second', '1002'), makeServerCert(ca, 'third', '1003')];
    install(certs[0]);
    port = await freePort();
    server = runTresor(['start'], env({ HOST: '127.0.0.1', TRESOR_TLS_CERT_FILE: live().cert, TRESOR_TLS_KEY_FILE: live().key }));
    await waitFor(server, 'the HTTPS listener', async () => (await httpsGet(port, ca.pem)).status === 200, 240_000);
  });
  after(async () => {
    server?.child.kill('SIGTERM');
    await server?.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    it(`serves ${version} with HSTS on the answer`, async () => {
      const res = await httpsGet(port, ca.pem, { minVersion: version, maxVersion: version });
      assert.equal(res.status, 200);
      assert.equal(res.protocol, version);
      assert.equal(res.hsts, HSTS);
      const missing = await httpsGet(port, ca.pem, { minVersion: version, maxVersion: version, path: '/no/such/route' });
      assert.equal(missing.status, 404);
      assert.equal(missing.hsts, HSTS, 'errors carry HSTS too');
    });
  }

  for (const version of ['TLSv1', 'TLSv1.1'] as const) {
    it(`refuses ${version}: the server answers with a protocol_version alert`, async () => {
      // SECLEVEL=0 lets this client send an old hello at all; the refusal is the server's alert.
      await assert.rejects(handshake(port, ca.pem, { minVersion: version, maxVersion: version, ciphers: 'DEFAULT:@SECLEVEL=0' }),
        (err: NodeJS.ErrnoException) => err.code === 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
      assert.deepEqual(await serverAnswer(port, clientHello(version === 'TLSv1' ? 0x0301 : 0x0302, [0xc013, 0x002f])), { serverHello: false, alert: 70 });
    });
  }

  it('refuses RC4 and 3DES suites (handshake_failure), though it answers the same hello with a good suite', async () => {
    assert.deepEqual(await serverAnswer(port, clientHello(0x0303, GOOD)), { serverHello: true }, 'the hand-built hello is well formed');
    assert.deepEqual(await serverAnswer(port, clientHello(0x0303, RC4)), { serverHello: false, alert: 40 });
    assert.deepEqual(await serverAnswer(port, clientHello(0x0303, DES3)), { serverHello: false, alert: 40 });
    // The server's RSA certificate would allow RSA key exchange: refusing CBC/RSA suites is its choice.
    assert.deepEqual(await serverAnswer(port, clientHello(0x0303, [0x009c, 0x002f, 0xc027])), { serverHello: false, alert: 40 },
      'AES128-GCM-SHA256 (no forward secrecy), AES128-SHA and ECDHE-RSA-AES128-SHA256 are not in the list either');
  });

  it('openssl s_client: TLS 1.3, TLS 1.2 with ECDHE-RSA-AES128-GCM-SHA256 and CHACHA20 succeed; TLS 1.1 is refused by the server', () => {
    const v13 = sClient(port, ca.certFile, ['-tls1_3']);
    assert.equal(v13.status, 0, v13.out);
    assert.match(v13.out, /Protocol version: TLSv1\.3/);
    assert.match(v13.out, /Verification: OK/);
    for (const cipher of ['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-CHACHA20-POLY1305', 'ECDHE-RSA-AES256-GCM-SHA384']) {
      const v12 = sClient(port, ca.certFile, ['-tls1_2', '-cipher', cipher]);
      assert.equal(v12.status, 0, v12.out);
      assert.match(v12.out, new RegExp(`Ciphersuite: ${cipher}`));
    }
    const v11 = sClient(port, ca.certFile, ['-tls1_1', '-cipher', 'DEFAULT:@SECLEVEL=0']);
    assert.notEqual(v11.status, 0);
    assert.match(v11.out, /alert protocol version/, 'the server sent the alert');
  });

  it('swaps the certificate on SIGHUP while requests run: none fails, open connections carry on, new handshakes see the new one', async () => {
    const keepAlive = new https.Agent({ keepAlive: true, maxSockets: 2 });
    const failures: string[] = [];
    const seen: { serial: string; keptAlive: boolean }[] = [];
    let stop = false;
    const waiters: { n: number; resolve: () => void }[] = [];
    const reached = (n: number) => new Promise<void>((resolve) => waiters.push({ n, resolve }));
    const loop = async (agent: https.Agent | false) => {
      while (!stop) {
        try {
          const res = await httpsGet(port, ca.pem, { agent });
          if (res.status !== 200) failures.push(`status ${res.status}`);
          seen.push({ serial: res.serial, keptAlive: agent !== false });
        } catch (err) {
          failures.push((err as Error).message);
        }
        for (const w of waiters.filter((x) => seen.length >= x.n)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
      }
    };
    const loops = [loop(keepAlive), loop(keepAlive), loop(false), loop(false)];
    await reached(20);
    install(certs[1]);
    server.child.kill('SIGHUP');
    await waitFor(server, 'the new certificate', async () => (await httpsGet(port, ca.pem)).serial === certs[1].serial);
    const swappedAt = seen.length;
    await reached(swappedAt + 40);
    stop = true;
    await Promise.all(loops);
    keepAlive.destroy();
    assert.deepEqual(failures, [], 'no request failed');
    const after = seen.slice(swappedAt);
    assert.ok(after.some((s) => !s.keptAlive && s.serial === certs[1].serial), 'new connections get the new certificate');
    assert.ok(after.some((s) => s.keptAlive && s.serial === certs[0].serial), 'keep-alive connections opened before go on with theirs');
    assert.equal(server.child.exitCode, null, 'still running');
  });

  it('keeps the current certificate when the new key does not match, and logs the failure without key material', async () => {
    install(certs[2], certs[0]);
    server.child.kill('SIGHUP');
    await waitFor(server, 'the reload failure in the log', async () => /TLS certificate reload failed/.test(server.stdout()));
    const line = server.stdout().split('\n').find((l) => l.includes('TLS certificate reload failed'))!;
    assert.doesNotMatch(line, /PRIVATE KEY|BEGIN/);
    assert.match(line, /"level":50/);
    const res = await httpsGet(port, ca.pem);
    assert.equal(res.status, 200);
    assert.equal(res.serial, certs[1].serial, 'the previous certificate is still served');
  });

  it('refuses to start in plain HTTP on a non-loopback address, and with a key that does not fit the certificate', async () => {
    const plain = runTresor(['start'], env({ HOST: '0.0.0.0', TRESOR_DATA_DIR: join(dir, 'plain') }));
    assert.equal((await plain.exited).code, 1);
    assert.match(plain.stderr(), /\[config\.tls_required\] HOST=0\.0\.0\.0 is not a loopback address/);
    const mismatched = runTresor(['start'], env({ HOST: '0.0.0.0', TRESOR_DATA_DIR: join(dir, 'plain'),
      TRESOR_TLS_CERT_FILE: certs[0].certFile, TRESOR_TLS_KEY_FILE: certs[1].keyFile }));
    assert.equal((await mismatched.exited).code, 1);
    assert.match(mismatched.stderr(), /\[config\.tls_invalid\]/);
    assert.doesNotMatch(mismatched.stderr(), /BEGIN|PRIVATE KEY/);
  });
});

for (const backend of backends) {
  describe(`plain HTTP behind a trusted proxy (${backend})`, () => {
    let t: TestApp;
    before(async () => { t = await startTestApp(backend, { env: { HOST: '0.0.0.0', TRESOR_TRUSTED_PROXIES: '10.0.0.1' } }); });
    after(async () => { await t?.close(); });

    const get = (remoteAddress: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url: '/healthz', remoteAddress, headers });

    it('serves what the proxy forwards as https, with HSTS', async () => {
      const res = await get('10.0.0.1', { 'x-forwarded-proto': 'https' });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['strict-transport-security'], HSTS);
    });

    it('refuses plain HTTP from the proxy and anything from elsewhere, as problem+json', async () => {
      for (const [from, headers] of [['10.0.0.1', {}], ['10.0.0.1', { 'x-forwarded-proto': 'http' }], ['203.0.113.7', { 'x-forwarded-proto': 'https' }]] as const) {
        const res = await get(from, headers);
        assert.equal(res.statusCode, 403, `${from} ${JSON.stringify(headers)}`);
        assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
        assert.equal(res.json().code, 'transport.https_required');
        assert.equal(res.headers['strict-transport-security'], undefined);
      }
    });
  });
}
