// Defect 8 (server part): slow clients cannot hold connections open. Tiny
// bounds are configured and a real port is used; the test asserts that the
// server closes the connection, not when exactly.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { backends } from '../helpers/backends.ts';
import { type TestApp, seedTenant, startTestApp } from '../helpers/test-app.ts';

const env = { TRESOR_HEADERS_TIMEOUT_MS: '200', TRESOR_REQUEST_TIMEOUT_MS: '300', TRESOR_IMPORT_TIMEOUT_MS: '500' };

for (const backend of backends) {
  describe(`slow clients are disconnected [${backend}]`, () => {
    let t: TestApp;
    let s: Awaited<ReturnType<typeof seedTenant>>;
    let port: number;
    before(async () => {
      t = await startTestApp(backend, { env });
      s = await seedTenant(t, 'Slow');
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      port = (t.app.server.address() as AddressInfo).port;
    });
    after(() => t.close());

    /** Sends `text` and never more; resolves with what the server sent once it closes the connection. */
    const untilClosed = (text: string) => new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(text));
      let got = '';
      socket.on('data', (d) => { got += d; });
      socket.on('error', () => {});
      socket.on('close', () => resolve(got));
      setTimeout(() => { socket.destroy(); reject(new Error('the server kept the connection open')); }, 15_000).unref();
    });
    const head = (method: string, path: string, headers: Record<string, string | number>) =>
      `${method} ${path} HTTP/1.1\r\nHost: localhost\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;

    /** The problem+json answer written on the raw socket before it closed. */
    const problemIn = (got: string, status: number, code: string) => {
      assert.match(got, new RegExp(`^HTTP/1.1 ${status} `), got);
      assert.match(got, /\r\ncontent-type: application\/problem\+json/i);
      assert.equal(JSON.parse(got.slice(got.indexOf('\r\n\r\n') + 4)).code, code);
    };

    it('headers that never finish', async () => {
      problemIn(await untilClosed('GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: 1'), 408, 'request.timeout');
    });

    it('malformed HTTP and oversized headers answer problem+json, echoing nothing', async () => {
      problemIn(await untilClosed('GARBAGE jane.doe@example.org\r\n\r\n'), 400, 'request.malformed_http');
      const big = await untilClosed(head('GET', '/v1/tenants', { 'x-note': `jane.doe@example.org ${'a'.repeat(20_000)}` }));
      problemIn(big, 431, 'request.headers_too_large');
      assert.doesNotMatch(big, /jane/);
    });

    it('a JSON body that never completes, and nothing is stored', async () => {
      await untilClosed(head('POST', s.base, { authorization: `Bearer ${s.key}`, 'content-type': 'application/json', 'content-length': 100 }) + '{"data":');
      const list = await t.call('GET', s.base, { token: s.key });
      assert.deepEqual(list.json().items, []);
    });

    it('an import body that never completes', async () => {
      const line = '{"data":{"name":"a"}}\n';
      await untilClosed(head('POST', `${s.base}/import`, { authorization: `Bearer ${s.key}`, 'content-type': 'application/x-ndjson', 'content-length': 10_000 }) + line);
    });

    it('a complete request on the same server is answered', async () => {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      assert.equal(res.status, 200);
    });
  });
}
