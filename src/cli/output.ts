import { startupCatalogue, type StartupCode } from '../errors.ts';

// What a command prints and how it exits. With --json everything a script
// needs is one JSON document on stdout (a result, a problem+json object from
// the server, or a local error with a catalogued code); without it, results go
// to stdout as text and errors to stderr. Progress always goes to stderr.

/** Exit codes, as documented in docs/operations.md and `tresor --help`. */
export const exitCodes = { done: 0, failed: 1, partlyDone: 2, usage: 64 } as const;

export const exitCodesHelp = `
Exit codes:
  0   done
  1   failed (the error is printed; with --json as a JSON object on stdout)
  2   partly done (an import with rejected lines, a rotation that set records aside)
  64  usage error (unknown command or option, missing required option or argument)`;

/** A local failure (no HTTP answer) with a code from the start-up catalogue (docs/errors.md). */
export class CliError extends Error {
  constructor(readonly code: StartupCode, message: string, readonly extras: Record<string, unknown> = {}) {
    super(message);
  }
}

export interface LocalProblem { code: StartupCode; title: string; detail: string; [k: string]: unknown }

export function localProblem(code: StartupCode, detail: string, extras: Record<string, unknown> = {}): LocalProblem {
  return { code, title: startupCatalogue[code].title, detail, ...extras };
}

export function printResult(json: boolean, result: unknown, text: string) {
  process.stdout.write(json ? `${JSON.stringify(result, null, 2)}\n` : `${text}\n`);
}

/** Prints an error the way the caller asked for and returns the exit code. */
export function reportError(err: unknown, json: boolean): number {
  const problem = (err as { problem?: { status: number; code?: string; detail?: string; title?: string; problems?: { field?: string; code: string }[] } }).problem;
  if (problem) {
    if (json) process.stdout.write(`${JSON.stringify(problem, null, 2)}\n`);
    else {
      const subs = (problem.problems ?? []).map((p) => `\n  - ${p.field ? `${p.field}: ` : ''}${p.code}`).join('');
      process.stderr.write(`tresor: ${problem.status} ${problem.code ?? ''}: ${problem.detail ?? problem.title ?? ''}${subs}\n`);
    }
    return exitCodes.failed;
  }
  const e = err as Error & { code?: unknown; extras?: Record<string, unknown> };
  const code: StartupCode = typeof e.code === 'string' && Object.hasOwn(startupCatalogue, e.code) ? e.code as StartupCode : 'cli.failed';
  if (json) process.stdout.write(`${JSON.stringify(localProblem(code, e.message ?? String(err), e.extras ?? {}), null, 2)}\n`);
  else process.stderr.write(`tresor: [${code}] ${e.message ?? String(err)}\n`);
  return code === 'cli.usage' ? exitCodes.usage : exitCodes.failed;
}
