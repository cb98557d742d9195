// Runs the real `tresor` CLI as child processes, for tests of what only a
// separate process can show: the embedded store's lock, signals, restarts.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { v8Flags } from '../cli/run-cli.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

export { freePort } from '../../bench/tresor-process.ts';

/** The parent's environment without anything that would point the child elsewhere. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('TRESOR_') && !['DATABASE_URL', 'PORT', 'HOST', 'LOG_LEVEL', 'NODE_TEST_CONTEXT'].includes(k)) env[k] = v;
  }
  return { ...env, ...extra };
}

export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (null when killed by a signal) and the signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function runTresor(args: string[], env: NodeJS.ProcessEnv): CliProcess {
  const child = spawn(process.execPath, [...v8Flags, '--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { err += d; });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** The bootstrap operator key: in a 0600 file named on stderr (stderr is no terminal here), or undefined. */
export function bootstrapKey(proc: CliProcess): { key: string; file: string } | undefined {
  const file = /written to (\S+) \(mode 0600\)/.exec(proc.stderr())?.[1];
  const key = file && existsSync(file) ? /export TRESOR_TOKEN=(\S+)/.exec(readFileSync(file, 'utf8'))?.[1] : undefined;
  return file && key ? { key, file } : undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls until `ready()` holds; fails early if the process exits, and after
 * `limitMs` (a hang guard, not a performance expectation).
 */
export async function waitFor(proc: CliProcess, what: string, ready: () => Promise<boolean>, limitMs = 60_000): Promise<void> {
  let gone = false;
  void proc.exited.then(() => { gone = true; });
  const deadline = Date.now() + limitMs;
  for (;;) {
    if (await ready().catch(() => false)) return;
    if (gone) throw new Error(`process exited before ${what}:\nstdout: ${proc.stdout()}\nstderr: ${proc.stderr()}`);
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}:\nstdout: ${proc.stdout()}\nstderr: ${proc.stderr()}`);
    await sleep(100);
  }
}
