// The embedded store (PGlite) has exactly one owning process: a second one
// would corrupt it. The real server holds a lock file, refuses other
// store-opening commands with a clear message, releases the lock on SIGTERM,
// and a lock left by a killed process is taken over without losing data.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CliProcess, bootstrapKey, cleanEnv, freePort, runTresor, waitFor } from '../helpers/security-process.ts';

describe('embedded store lock (real server processes)', { timeout: 240_000 }, () => {
  let dir: string;
  let dataDir: string;
  let lockFile: string;
  let env: NodeJS.ProcessEnv;
  let url: string;
  let token: string;
  const tenants: Array<{ id: string; name: string }> = [];
  const running = new Set<CliProcess>();

  const api = (method: string, path: string, body?: unknown) => fetch(`${url}${path}`, {
    method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const readyz = async () => (await fetch(`${url}/readyz`)).status;

  async function startServer(opts: { expectToken: boolean }): Promise<CliProcess> {
    const server = runTresor(['start'], env);
    running.add(server);
    void server.exited.then(() => running.delete(server));
    await waitFor(server, '/readyz 200', async () => (await readyz()) === 200);
    if (opts.expectToken) {
      await waitFor(server, 'the bootstrap operator key', async () => bootstrapKey(server) !== undefined);
      token = bootstrapKey(server)!.key;
    }
    return server;
  }

  async function createTenant(name: string) {
    const res = await api('POST', '/v1/tenants', { name });
    const text = await res.text();
    assert.equal(res.status, 201, text);
    tenants.push(JSON.parse(text) as { id: string; name: string });
  }

  async function assertTenantsIntact() {
    for (const tenant of tenants) {
      const res = await api('GET', `/v1/tenants/${tenant.id}`);
      assert.equal(res.status, 200, `tenant ${tenant.name} is gone after the restart`);
      assert.equal((await res.json() as { name: string }).name, tenant.name);
    }
  }

  async function assertRefusedWhileLocked(args: string[]) {
    const other = runTresor(args, env);
    const { code } = await other.exited;
    assert.notEqual(code, 0, `'tresor ${args.join(' ')}' must not run while the server owns the store`);
    assert.match(other.stderr(), /in use/, other.stderr());
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tresor-lock-'));
    dataDir = join(dir, 'data');
    lockFile = join(dataDir, 'tresor.lock');
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    env = cleanEnv({ TRESOR_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' });
  });
  after(async () => {
    for (const p of running) { p.child.kill('SIGKILL'); await p.exited; }
    rmSync(dir, { recursive: true, force: true });
  });

  let server: CliProcess;

  it('starts on an empty data dir, holds the lock and hands out a bootstrap operator key once', async () => {
    server = await startServer({ expectToken: true });
    assert.equal(readFileSync(lockFile, 'utf8').trim(), String(server.child.pid));
    assert.ok(!server.stderr().includes(token) && !server.stdout().includes(token), 'the key is in its file, never in the output or a log line');
    await createTenant('Before Restart GmbH');
  });

  it('refuses migrate, operator-key create and a second start while the server runs; the server keeps serving', async () => {
    // All three at once: none may take the lock from the server, nor from each other.
    await Promise.all([assertRefusedWhileLocked(['migrate']), assertRefusedWhileLocked(['operator-key', 'create', '--name', 'sneaky']),
      assertRefusedWhileLocked(['start'])]);
    assert.equal(await readyz(), 200);
    assert.equal(readFileSync(lockFile, 'utf8').trim(), String(server.child.pid), 'a refused process must not take or remove the lock');
    await assertTenantsIntact();
  });

  it('exits 0 on SIGTERM and removes the lock file', async () => {
    server.child.kill('SIGTERM');
    const { code, signal } = await server.exited;
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, server.stderr());
    assert.equal(existsSync(lockFile), false);
  });

  it('starts again on the same dir with the data intact and without minting another key', async () => {
    server = await startServer({ expectToken: false });
    assert.doesNotMatch(server.stdout() + server.stderr(), /TRESOR_TOKEN|written to/);
    await assertTenantsIntact();
    await createTenant('Written Just Before Kill AG');
  });

  it('after kill -9, a new start takes over the stale lock and the data is intact', async () => {
    const deadPid = server.child.pid;
    server.child.kill('SIGKILL');
    const { signal } = await server.exited;
    assert.equal(signal, 'SIGKILL');
    assert.equal(readFileSync(lockFile, 'utf8').trim(), String(deadPid), 'the killed process leaves its lock behind');
    server = await startServer({ expectToken: false });
    assert.equal(readFileSync(lockFile, 'utf8').trim(), String(server.child.pid));
    await assertTenantsIntact();
    server.child.kill('SIGTERM');
    assert.equal((await server.exited).code, 0);
    assert.equal(existsSync(lockFile), false);
  });

  it('lets store commands run once the server is stopped', async () => {
    const migrate = runTresor(['migrate'], env);
    const { code } = await migrate.exited;
    assert.equal(code, 0, migrate.stderr());
    assert.match(migrate.stdout(), /migrations applied/);
    assert.equal(existsSync(lockFile), false, 'migrate releases the lock when done');
  });
});
