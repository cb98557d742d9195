// Operator bootstrap: a key is minted only on a store where no operator key
// ever existed, it reaches the operator outside the log stream, and the last
// active operator key cannot be revoked. Whoever can restart the process and
// read its output must not become operator.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { openStore } from '../../src/main.ts';
import { backends, createTestDatabase } from '../helpers/backends.ts';
import { writeMigratedPgliteDir } from '../helpers/migrated-images.ts';
import { assertProblem } from '../helpers/problem.ts';
import { startTestApp, type TestApp } from '../helpers/test-app.ts';
import { type CliProcess, bootstrapKey, cleanEnv, freePort, runTresor, waitFor } from '../helpers/security-process.ts';

for (const backend of backends) {
  describe(`last operator key [${backend}]`, () => {
    let t: TestApp;
    before(async () => { t = await startTestApp(backend); });
    after(async () => t.close());

    it('refuses to revoke the last active operator key (409) and keeps it working', async () => {
      const [only] = (await t.call('GET', '/v1/operator-keys')).json().items;
      assertProblem(await t.call('DELETE', `/v1/operator-keys/${only.id}`), 409, 'api_key.last_operator');
      assert.equal((await t.call('GET', '/v1/tenants')).statusCode, 200, 'the key still works');
      const second = (await t.call('POST', '/v1/operator-keys', { body: { name: 'second' } })).json();
      assert.equal((await t.call('DELETE', `/v1/operator-keys/${only.id}`, { token: second.key })).statusCode, 204, 'with another key left it may go');
      assertProblem(await t.call('DELETE', `/v1/operator-keys/${second.id}`, { token: second.key }), 409, 'api_key.last_operator');
      assert.equal((await t.call('GET', '/v1/tenants', { token: second.key })).statusCode, 200);
    });

    it('two operators revoking each other at once leave exactly one working key', async () => {
      const a = await t.services.apiKeys.createOperatorKey('a');
      const b = await t.services.apiKeys.createOperatorKey('b');
      type Listed = { id: string; revokedAt: string | null };
      for (const k of (await t.call('GET', '/v1/operator-keys', { token: a.key })).json().items as Listed[]) {
        if (k.id !== a.id && k.id !== b.id && !k.revokedAt) assert.equal((await t.call('DELETE', `/v1/operator-keys/${k.id}`, { token: a.key })).statusCode, 204);
      }
      const [byA, byB] = await Promise.all([
        t.call('DELETE', `/v1/operator-keys/${b.id}`, { token: a.key }),
        t.call('DELETE', `/v1/operator-keys/${a.id}`, { token: b.key }),
      ]);
      const codes = [byA.statusCode, byB.statusCode];
      // The loser is refused as the last key (409), or, if it ran after the winner committed, as revoked (401).
      assert.equal(codes.filter((c) => c === 204).length, 1, `${byA.body} ${byB.body}`);
      assert.ok(codes.every((c) => [204, 401, 409].includes(c)), codes.join());
      const survivor = byA.statusCode === 204 ? a.key : b.key;
      const list = await t.call('GET', '/v1/operator-keys', { token: survivor });
      assert.equal(list.statusCode, 200, list.body);
      assert.equal(list.json().items.filter((k: Listed) => !k.revokedAt).length, 1);
    });
  });
}

describe('bootstrap operator key (real server processes)', { timeout: 240_000 }, () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let url: string;
  const running = new Set<CliProcess>();

  async function start(extra: Record<string, string> = {}): Promise<CliProcess> {
    const server = runTresor(['start'], { ...env, ...extra });
    running.add(server);
    void server.exited.then(() => running.delete(server));
    await waitFor(server, '/readyz 200', async () => (await fetch(`${url}/readyz`)).status === 200);
    await waitFor(server, 'the start-up message', async () => /operator key/.test(server.stderr()));
    return server;
  }
  async function stop(server: CliProcess) {
    server.child.kill('SIGTERM');
    assert.equal((await server.exited).code, 0, server.stderr());
  }
  const status = async (token: string) => (await fetch(`${url}/v1/tenants`, { headers: { authorization: `Bearer ${token}` } })).status;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tresor-bootstrap-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    env = cleanEnv({ TRESOR_DATA_DIR: join(dir, 'data'), PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' });
    // A migrated store on which no operator key (and no root key) exists yet: what
    // decides the bootstrap key is the operator keys, not the schema. The first
    // start on an empty data dir is test/db/embedded-lock's.
    await writeMigratedPgliteDir(join(dir, 'data', 'pglite'));
  });
  after(async () => {
    for (const p of running) { p.child.kill('SIGKILL'); await p.exited; }
    rmSync(dir, { recursive: true, force: true });
  });

  let first: { key: string; file: string };

  it('a first start writes the key to a 0600 file named on stderr, never to stdout or a log line', async () => {
    const server = await start();
    first = bootstrapKey(server)!;
    assert.ok(first, server.stderr());
    assert.equal(statSync(first.file).mode & 0o777, 0o600);
    assert.ok(!server.stdout().includes(first.key) && !server.stderr().includes(first.key));
    for (const line of server.stdout().split('\n').filter(Boolean)) assert.ok(line.startsWith('{'), `stdout holds JSON log lines only: ${line}`);
    assert.equal(await status(first.key), 200);
    await stop(server);
  });

  it('a start after every operator key was revoked mints none; recovery is operator-key create on the stopped store', async () => {
    rmSync(first.file);
    // The API refuses to revoke the last key; a store from before that rule can still have none left.
    const config = loadConfig(env);
    const { db } = await openStore(config);
    await db.query("update api_keys set revoked_at = now() where role = 'operator'");
    await db.close();
    const server = await start();
    assert.equal(bootstrapKey(server), undefined);
    assert.equal(existsSync(first.file), false);
    assert.doesNotMatch(server.stdout() + server.stderr(), /TRESOR_TOKEN|written to/);
    assert.match(server.stderr(), /operator-key create/);
    assert.equal(await status(first.key), 401);
    await stop(server);
    const create = runTresor(['operator-key', 'create', '--name', 'recovered'], env);
    assert.equal((await create.exited).code, 0, create.stderr());
    const recovered = create.stdout().trim();
    const again = await start();
    assert.equal(bootstrapKey(again), undefined);
    assert.equal(await status(recovered), 200);
    await stop(again);
  });

  it('warns when connected to PostgreSQL as a superuser', { skip: !process.env.TEST_DATABASE_URL }, async () => {
    const database = await createTestDatabase({ migrated: true });
    try {
      const server = await start({ DATABASE_URL: database.url, TRESOR_DATA_DIR: join(dir, 'pg-data') });
      await waitFor(server, 'the superuser warning', async () => /superuser/.test(server.stdout()));
      const warning = server.stdout().split('\n').find((l) => l.includes('superuser'))!;
      assert.equal(JSON.parse(warning).level, 40, 'a warn log line');
      await stop(server);
    } finally {
      await database.drop();
    }
  });
});
