// The tenant export sealed to the tenant's X25519 key and sent through egress
// to a real loopback destination: what arrives, that only the private key
// opens it, and what is refused before anything leaves.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backends } from '../helpers/backends.ts';
import { assertProblem } from '../helpers/problem.ts';
import { type Listener, listen } from '../helpers/listeners.ts';
import { seedTenant, startTestApp, type TestApp } from '../helpers/test-app.ts';
import { tresor } from '../cli/run-cli.ts';
import { openSealedExport } from '../../src/crypto/export-seal.ts';

type Line = { type: string; [k: string]: unknown };
const parse = (body: string) => body.trimEnd().split('\n').map((l) => JSON.parse(l) as Line);
const pem = (k: { export(o: { type: 'spki'; format: 'pem' }): string | Buffer }) => String(k.export({ type: 'spki', format: 'pem' }));

for (const backend of backends) {
  describe(`sealed tenant export to a destination [${backend}]`, () => {
    let t: TestApp;
    let dest: Listener, elsewhere: Listener;
    let a: Awaited<ReturnType<typeof seedTenant>>;
    let url: string;
    const secret = `${randomUUID()}@sealed.example`;
    const recipient = generateKeyPairSync('x25519');
    const recipientKey = pem(recipient.publicKey);
    const dir = mkdtempSync(join(tmpdir(), 'tresor-sealed-'));
    const exportTo = (body: unknown, token?: string) => t.call('POST', `/v1/tenants/${a.tenantId}/export`, { body, token });
    const transfers = async () => (await t.call('GET', `/v1/tenants/${a.tenantId}/audit?action=transfer&limit=500`)).json().items
      .map((i: { entry: { detail: Record<string, unknown> } }) => i.entry.detail).reverse();

    before(async () => {
      [dest, elsewhere] = await Promise.all([listen(), listen()]);
      t = await startTestApp(backend, { env: { TRESOR_EXPORT_PAGE: '2', TRESOR_EGRESS_ALLOW: `DE ${dest.origin}/in internal` } });
      a = await seedTenant(t, 'Sealed GmbH');
      for (const email of [secret, `${randomUUID()}@sealed.example`, `${randomUUID()}@sealed.example`]) {
        assert.equal((await t.call('POST', a.base, { token: a.key, body: { data: { email, name: 'Sealed Person' } } })).statusCode, 201);
      }
      url = await t.app.listen({ port: 0, host: '127.0.0.1' });
    });
    after(async () => { await t.close(); await Promise.all([dest.close(), elsewhere.close()]); rmSync(dir, { recursive: true, force: true }); });

    it('sends the export sealed to the recipient key; only its private key opens it, to the same records as the plain export', async () => {
      const res = await exportTo({ destination: `${dest.origin}/in/acme`, recipientKey });
      assert.equal(res.statusCode, 200, res.body);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      const [got] = dest.received;
      assert.deepEqual(res.json(), { destination: dest.origin, bytes: got.raw.length, records: 3, collections: 1, status: 204 });
      assert.deepEqual([got.path, got.contentType], ['/in/acme', 'application/octet-stream']);
      assert.equal(got.raw.includes(secret), false, 'no value in clear');
      assert.equal(got.raw.includes('Sealed Person'), false);
      const header = JSON.parse(got.raw.subarray(0, got.raw.indexOf(0x0a)).toString());
      assert.deepEqual([header.v, header.alg, Object.keys(header)], [1, 'X25519-HKDF-SHA256-A256GCM', ['v', 'alg', 'epk', 'salt', 'iv']]);
      const opened = parse(openSealedExport(recipient.privateKey, got.raw).toString('utf8'));
      const plain = parse((await t.call('POST', `/v1/tenants/${a.tenantId}/export`)).body);
      const records = (ls: Line[]) => ls.filter((l) => l.type !== 'export');
      assert.deepEqual(records(opened), records(plain));
      assert.ok(opened.some((l) => l.type === 'record' && (l.data as { email: string }).email === secret));
      // Another key does not open it; neither does a flipped byte.
      assert.throws(() => openSealedExport(generateKeyPairSync('x25519').privateKey, got.raw));
      const flipped = Buffer.from(got.raw);
      flipped[flipped.length - 20] ^= 1;
      assert.throws(() => openSealedExport(recipient.privateKey, flipped));
    });

    it('the transfer log holds the sent transfer (origin, bytes, no values); the export entries hold counts only', async () => {
      const last = (await transfers()).at(-1);
      assert.deepEqual([last.destination, last.purpose, last.outcome, last.bytes, last.country], [dest.origin, 'tenant_export', 'sent', dest.received[0].raw.length, 'DE']);
      const end = (await t.call('GET', `/v1/tenants/${a.tenantId}/audit?limit=500&action=tenant.export.end`)).json().items.at(-1).entry;
      assert.deepEqual(end.detail, { collections: 1, records: 3, complete: true });
      const all = (await t.call('GET', `/v1/tenants/${a.tenantId}/audit?limit=500`)).body;
      assert.equal(/sealed\.example|Sealed Person|\/in\/acme/.test(all), false);
    });

    it('a key that is not an X25519 public key is refused with 422 and nothing is sent or logged', async () => {
      const before = [dest.received.length, (await transfers()).length];
      const rsa = pem(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey);
      for (const bad of ['not a key', rsa, String(recipient.privateKey.export({ type: 'pkcs8', format: 'pem' }))]) {
        assertProblem(await exportTo({ destination: `${dest.origin}/in/x`, recipientKey: bad }), 422, 'export.invalid_recipient_key');
      }
      assertProblem(await exportTo({ destination: `${dest.origin}/in/x`, recipientKey: 'k'.repeat(1025) }), 400, 'request.validation_failed');
      assert.deepEqual([dest.received.length, (await transfers()).length], before);
    });

    it('a destination not on the allowlist gets the egress problem, nothing arrives, and the refusal is in the transfer log', async () => {
      assertProblem(await exportTo({ destination: `${elsewhere.origin}/in`, recipientKey }), 422, 'transfer.destination_not_allowed');
      assert.equal(elsewhere.received.length, 0);
      const last = (await transfers()).at(-1);
      assert.deepEqual([last.outcome, last.reason, last.purpose, last.bytes], ['refused', 'not_allowlisted', 'tenant_export', 0]);
      const end = (await t.call('GET', `/v1/tenants/${a.tenantId}/audit?limit=500&action=tenant.export.end`)).json().items[0].entry;
      assert.deepEqual(end.detail, { collections: 1, records: 0, complete: false });
    });

    it('an admin may not export to a destination (403), and nothing is sent', async () => {
      const n = dest.received.length;
      assertProblem(await exportTo({ destination: `${dest.origin}/in/x`, recipientKey }, a.adminKey), 403, 'auth.forbidden');
      assert.equal(dest.received.length, n);
    });

    it('tresor tenant export --to --recipient-key prints the summary; tresor tenant decrypt-export opens what arrived', async () => {
      const keyFile = join(dir, 'recipient.pub.pem');
      writeFileSync(keyFile, recipientKey);
      const run = await tresor(['tenant', 'export', '--tenant', a.tenantId, '--to', `${dest.origin}/in/cli`, '--recipient-key', keyFile, '--json'],
        { TRESOR_URL: url, TRESOR_TOKEN: t.operatorKey });
      assert.equal(run.code, 0, run.stderr);
      const got = dest.received.at(-1)!;
      assert.deepEqual(JSON.parse(run.stdout), { destination: dest.origin, bytes: got.raw.length, records: 3, collections: 1, status: 204 });
      const sealed = join(dir, 'export.sealed');
      const priv = join(dir, 'recipient.pem');
      writeFileSync(sealed, got.raw);
      writeFileSync(priv, String(recipient.privateKey.export({ type: 'pkcs8', format: 'pem' })));
      const opened = await tresor(['tenant', 'decrypt-export', '--key', priv, '--in', sealed]);
      assert.equal(opened.code, 0, opened.stderr);
      assert.equal(parse(opened.stdout).at(-1)!.type, 'end');
      assert.ok(opened.stdout.includes(secret));
    });
  });
}
