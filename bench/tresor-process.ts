import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

// A real Tresor server as a child process, started the way an operator starts
// it (`tresor start`), on a real port: the bench and the kill -9 soak test both
// measure and break the shipped process, not an in-process app.

// BENCH_SERVER_DIR runs another checkout's server under this bench (A/B of two versions).
export const repoRoot = process.env.BENCH_SERVER_DIR || new URL('..', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface TresorProcess {
  url: string;
  /** The bootstrap operator key printed on first start (undefined on later starts of the same store). */
  token?: string;
  child: ChildProcess;
  /** Graceful stop: SIGTERM, then SIGKILL after timeoutMs. */
  stop(timeoutMs?: number): Promise<void>;
  /** kill -9 of the server (the whole process group when spawned detached, i.e. cluster workers too). */
  kill9(): Promise<void>;
}

export interface StartOptions {
  env: Record<string, string>;
  port?: number;
  /** New process group, so kill9() also reaches cluster workers. */
  detached?: boolean;
  nodeArgs?: string[];
  readyTimeoutMs?: number;
  /** Wait until the bootstrap key line appears (first start of a store). */
  expectToken?: boolean;
  /** The checkout whose server runs (default: this one, or BENCH_SERVER_DIR). */
  serverDir?: string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

async function waitReady(url: string, child: ChildProcess, deadline: number, output: () => string, needToken: () => boolean) {
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`tresor exited early (${child.exitCode ?? child.signalCode}):\n${output()}`);
    }
    if (Date.now() > deadline) throw new Error(`tresor not ready at ${url} in time:\n${output()}`);
    const ok = await fetch(`${url}/readyz`).then((r) => r.status === 200, () => false);
    if (ok && !needToken()) return;
    await sleep(100);
  }
}

export async function startTresor(opts: StartOptions): Promise<TresorProcess> {
  const port = opts.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'warn', HOST: '127.0.0.1', ...opts.env, PORT: String(port) };
  const serverDir = opts.serverDir ?? repoRoot;
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', join(serverDir, 'src', 'cli', 'main.ts'), 'start'], {
    cwd: serverDir, env, detached: opts.detached ?? false, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => { stdout += d; });
  child.stderr!.on('data', (d) => { stderr += d; });
  // The bootstrap key goes to a 0600 file when stderr is not a terminal; its path is on stderr.
  const token = () => {
    const file = /written to (\S+) \(mode 0600\)/.exec(stderr)?.[1];
    return file ? /export TRESOR_TOKEN=(\S+)/.exec(readFileSync(file, 'utf8'))?.[1] : undefined;
  };
  const output = () => `--- stdout\n${stdout.slice(-4000)}\n--- stderr\n${stderr.slice(-4000)}`;
  const signal = (sig: NodeJS.Signals) => {
    try {
      if (opts.detached) process.kill(-child.pid!, sig);
      else child.kill(sig);
    } catch { /* already gone */ }
  };
  const proc: TresorProcess = {
    url,
    child,
    async stop(timeoutMs = 15_000) {
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), timeoutMs);
      await exited(child);
      clearTimeout(timer);
    },
    async kill9() {
      signal('SIGKILL');
      await exited(child);
      // Cluster workers notice the dead group only through the signal; give the kernel a moment to reap them.
      if (opts.detached) for (let i = 0; i < 50 && groupAlive(child.pid!); i++) await sleep(20);
    },
  };
  try {
    await waitReady(url, child, Date.now() + (opts.readyTimeoutMs ?? 60_000), output, () => !!opts.expectToken && !token());
  } catch (err) {
    await proc.stop(2000);
    throw err;
  }
  proc.token = token();
  return proc;
}

function groupAlive(pgid: number): boolean {
  try { process.kill(-pgid, 0); return true; } catch { return false; }
}

/** A temp dir holding the key file (and the PGlite data dir when no DATABASE_URL). */
export function tresorDirs(prefix = 'tresor-bench-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    // Fresh tenants write without entering and confirming an instruction first.
    env: { TRESOR_DATA_DIR: join(dir, 'data'), TRESOR_KEY_FILE: join(dir, 'keys', 'root.key'), TRESOR_BACKUP_DIR: join(dir, 'backups'),
      TRESOR_REQUIRE_INSTRUCTION: 'off' },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A fresh database on the server of baseUrl, dropped (with force) by drop(). */
export async function createDatabase(baseUrl: string, prefix = 'tresor_bench_'): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}${randomBytes(5).toString('hex')}`;
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      try { await admin.unsafe(`drop database if exists ${name} with (force)`); } finally { await admin.end(); }
    },
  };
}
