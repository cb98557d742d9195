// `tresor audit export`: JSON lines with seq and proof anchor on stdout, or
// RFC 5424 messages over TCP to a real loopback listener.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { backends } from '../helpers/backends.ts';
import { seedTenant, startTestApp, type TestApp } from '../helpers/test-app.ts';
import { tresor } from '../cli/run-cli.ts';

/** Splits an RFC 6587 octet-counted stream into messages. */
function frames(buf: Buffer): string[] {
  const out: string[] = [];
  for (let at = 0; at < buf.length;) {
    const space = buf.indexOf(0x20, at);
    const len = Number(buf.subarray(at, space).toString('ascii'));
    assert.ok(Number.isInteger(len) && len > 0, `bad frame length at ${at}`);
    out.push(buf.subarray(space + 1, space + 1 + len).toString('utf8'));
    at = space + 1 + len;
  }
  return out;
}

for (const backend of backends) {
  describe(`tresor audit export [${backend}]`, () => {
    let t: TestApp;
    let url: string;
    let a: Awaited<ReturnType<typeof seedTenant>>;
    before(async () => {
      t = await startTestApp(backend);
      a = await seedTenant(t, 'Exported');
      await t.call('POST', a.base, { token: a.key, body: { data: { email: 'exported@example.org', name: 'Exported Person' } } });
      await t.services.sequencer.sequence();
      url = await t.app.listen({ port: 0, host: '127.0.0.1' });
    });
    after(async () => t.close());

    it('streams every entry as a JSON line, oldest first, with its seq and the signed head that covers it', async () => {
      const run = await tresor(['audit', 'export', '--since', '2000-01-01', '--format', 'jsonl', '--page-size', '3'], { TRESOR_URL: url, TRESOR_TOKEN: t.operatorKey });
      assert.equal(run.code, 0, run.stderr);
      const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
      const ids = lines.map((l) => Number(l.id));
      assert.deepEqual(ids, [...ids].sort((x, y) => x - y), 'oldest first');
      assert.equal(new Set(ids).size, ids.length, 'paging neither repeats nor skips');
      const created = lines.find((l) => l.entry?.action === 'record.create');
      assert.equal(created.entry.tenantId, a.tenantId);
      assert.equal(typeof created.seq, 'number');
      const head = (await t.call('GET', '/v1/audit/tree-head')).json();
      assert.deepEqual(created.anchor, { treeSize: head.treeSize, rootHash: head.rootHash, timestamp: head.timestamp, keyId: head.keyId });
      const proof = await t.call('GET', `/v1/audit/proofs/inclusion?seq=${created.seq}&treeSize=${created.anchor.treeSize}`);
      assert.equal(proof.statusCode, 200, 'the anchor names a head the inclusion proof route answers for');
      assert.doesNotMatch(run.stdout, /exported@example|Exported Person/, 'no field value is exported');
    });

    it('refuses a tenant key (operators only)', async () => {
      const run = await tresor(['audit', 'export', '--format', 'jsonl'], { TRESOR_URL: url, TRESOR_TOKEN: a.adminKey });
      assert.notEqual(run.code, 0);
      assert.match(run.stderr, /auth\.forbidden/);
    });

    it('forwards RFC 5424 messages, octet-counted, to a TCP syslog listener', async () => {
      const received: Buffer[] = [];
      let ended!: () => void;
      const allReceived = new Promise<void>((r) => { ended = r; });
      const listener: Server = createServer((socket) => { socket.on('data', (d) => received.push(d)); socket.on('end', ended); });
      await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
      const port = (listener.address() as { port: number }).port;
      try {
        const run = await tresor(['audit', 'export', '--since', '2000-01-01', '--syslog', `tcp://127.0.0.1:${port}`], { TRESOR_URL: url, TRESOR_TOKEN: t.operatorKey });
        assert.equal(run.code, 0, run.stderr);
        assert.equal(run.stdout, '', 'nothing on stdout when forwarding');
        await allReceived;
        const messages = frames(Buffer.concat(received));
        const exported = Number(/exported (\d+) audit entries/.exec(run.stderr)![1]);
        assert.equal(messages.length, exported);
        const create = messages.find((m) => / tresor - record\.create - /.test(m))!;
        assert.match(create, /^<110>1 \d{4}-\d\d-\d\dT[\d:.]+Z \S+ tresor - record\.create - \uFEFF\{/);
        const json = JSON.parse(create.slice(create.indexOf('\uFEFF') + 1));
        assert.equal(json.entry.action, 'record.create');
      } finally {
        await new Promise((r) => listener.close(r));
      }
    });
  });
}
