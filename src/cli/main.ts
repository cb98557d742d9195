import { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { startupCatalogue } from '../errors.ts';
import { start, openStore } from '../main.ts';
import { createServices } from '../services.ts';
import { importFile, rotateKeys } from './remote-commands.ts';

// Two kinds of command: those that need the store itself open it directly (and
// on the embedded store refuse while a server holds it); those that act on a
// running deployment call its HTTP API with TRESOR_URL and TRESOR_TOKEN.
const program = new Command('tresor').description('Tresor: a vault for personal data');

program.command('start').description('run the server (store: DATABASE_URL, else embedded PGlite in TRESOR_DATA_DIR)')
  .option('--workers <n>', 'worker processes (PostgreSQL only)')
  .action(async (o) => start(loadConfig(o.workers ? { ...process.env, TRESOR_WORKERS: o.workers } : process.env)));

program.command('migrate').description('[store] apply pending database migrations')
  .action(async () => {
    const { db } = await openStore(loadConfig());
    await db.close();
    process.stdout.write('migrations applied\n');
  });

program.command('operator-key').description('[store] platform operator keys')
  .command('create').requiredOption('--name <name>', 'a name for the key').description('create an operator key and print it once')
  .action(async (o) => {
    const config = loadConfig();
    const { db, keyProvider } = await openStore(config);
    try {
      const { key } = await createServices(config, { db, keyProvider }).apiKeys.createOperatorKey(o.name);
      process.stdout.write(`${key}\n`);
    } finally { await db.close(); }
  });

program.command('import').description('[api] bulk-import an NDJSON file of {"data": {...}} lines')
  .requiredOption('--tenant <id>').requiredOption('--collection <name>').argument('<file>')
  .action(async (file, o) => importFile(file, o.tenant, o.collection));

program.command('keys').description('[api] tenant data keys')
  .command('rotate').requiredOption('--tenant <id>').description('add a key version and re-encrypt every record, with progress')
  .action(async (o) => rotateKeys(o.tenant));

// A start-up failure names its code, which docs/errors.md (and GET /problems/{code}) explains.
program.parseAsync().catch((err: Error & { code?: string }) => {
  const code = typeof err.code === 'string' && Object.hasOwn(startupCatalogue, err.code) ? ` [${err.code}]` : '';
  process.stderr.write(`tresor:${code} ${err.message}\n`);
  process.exit(1);
});
