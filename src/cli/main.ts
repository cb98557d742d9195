import { CommanderError } from 'commander';
import { buildProgram } from './commands.ts';
import { exitCodes, localProblem, reportError } from './output.ts';

// The `tresor` command. Usage errors (unknown command or option, missing
// required option) exit 64 like BSD's EX_USAGE, apart from failures (1), so a
// script can tell "I called it wrong" from "it did not work".
const json = process.argv.includes('--json');

const program = buildProgram((p) => p
  .exitOverride()
  .showHelpAfterError('(run with --help for usage)')
  .configureOutput({ outputError: (text, write) => { if (!json) write(text); } }));

function usageExit(err: CommanderError): number {
  if (err.exitCode === 0) return exitCodes.done; // --help, --version
  if (json) process.stdout.write(`${JSON.stringify(localProblem('cli.usage', err.message.replace(/^error: /, '')), null, 2)}\n`);
  return exitCodes.usage;
}

program.parseAsync().catch((err: unknown) => {
  process.exit(err instanceof CommanderError ? usageExit(err) : reportError(err, json));
});
