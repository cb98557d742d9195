import { execFile } from 'node:child_process';

export const bin = new URL('../../bin/tresor.mjs', import.meta.url).pathname;

/**
 * The V8 flags of this test process that CLI processes get too: `npm test`'s
 * --liftoff-only (PGlite's WebAssembly compiled without the optimising tier,
 * which costs more CPU than it saves in a short process).
 */
export const v8Flags = process.execArgv.filter((a) => a === '--liftoff-only');

export interface CliRun { code: number; stdout: string; stderr: string }

/** Runs `tresor` as a user does (bin/tresor.mjs), with only the given environment; stdio are pipes, not a terminal. */
export function tresor(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...v8Flags, bin, ...args], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}
