import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { backends } from '../../helpers/backends.ts';
import { startTestApp, seedTenant, type TestApp } from '../../helpers/test-app.ts';

// docs/verify-audit-log.mjs is what the README hands an auditor: it must work
// against a real server with nothing but the public API and the pinned key.
const script = new URL('../../../docs/verify-audit-log.mjs', import.meta.url).pathname;
const run = (args: string[], env: Record<string, string>) => new Promise<{ code: number; stdout: string }>((resolve) =>
  execFile(process.execPath, [script, ...args], { env: { PATH: process.env.PATH ?? '', ...env } },
    (err, stdout) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout })));

for (const backend of backends) {
  describe(`[${backend}] the auditor's script`, () => {
    let t: TestApp;
    let env: Record<string, string>;
    let savedFile: string;
    let pinned: string;
    before(async () => {
      t = await startTestApp(backend);
      await seedTenant(t);
      await t.services.sequencer.sequence();
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      env = { TRESOR_URL: `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`, TRESOR_TOKEN: t.operatorKey };
      pinned = (await t.call('GET', '/v1/audit/public-key')).json().publicKey;
      savedFile = join(t.store.dir, 'saved-head.json');
      writeFileSync(savedFile, (await t.call('GET', '/v1/audit/tree-head')).body);
      await seedTenant(t, 'Later');
      await t.services.sequencer.sequence();
    });
    after(() => t.close());

    test('proves the grown log extends the saved head and contains the named entries (exit 0)', async () => {
      const res = await run([pinned, savedFile, '0', '3'], env);
      assert.equal(res.code, 0, res.stdout);
      assert.match(res.stdout, /ok +log of \d+ extends the saved \d+/);
      assert.match(res.stdout, /ok +entry 3 is in the log/);
    });

    test('refuses heads not signed by the pinned key (exit 1)', async () => {
      const res = await run([randomBytes(32).toString('base64'), savedFile], env);
      assert.equal(res.code, 1);
      assert.match(res.stdout, /FAIL current head \(size \d+\) signed by the pinned key/);
    });
  });
}
