import { readFileSync } from 'node:fs';
import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import { bashCompletion, zshCompletion } from './completion.ts';
import { CliError, exitCodes, exitCodesHelp, printResult } from './output.ts';
import { importFile, rotateKeys, type RemoteOptions } from './remote-commands.ts';
import { decryptExport, exportTenant, type TenantExportOptions } from './tenant-export.ts';
import { printTreeHead, verifyAuditLog } from './audit-commands.ts';
import { exportAudit, type ExportOptions } from './audit-export.ts';
import { createBackup, listBackups, restoreBackup, verifyBackup } from './backup-commands.ts';
import { userCommands } from './user-commands.ts';
import { incidentCommands } from './incident-commands.ts';
import { cloneTenantCommand, type CloneOptions } from './clone-commands.ts';
import { runRetention, type RetentionRunOptions } from './retention-commands.ts';
import { tomReport, tomVerify, type TomReportOptions, type TomVerifyOptions } from './tom-commands.ts';

// Two kinds of command: [store] commands open the store itself (and on the
// embedded store refuse while a server holds it); [api] commands call a running
// deployment's HTTP API. Each action resolves to its exit code.

// The server's modules load only for the [store] commands that need them, so
// --help, completion and the [api] commands start quickly.
const server = async () => {
  const [{ loadConfig }, { start, openStore }, { createServices }] =
    await Promise.all([import('../config.ts'), import('../main.ts'), import('../services.ts')]);
  return { loadConfig, start, openStore, createServices };
};

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const storeEnv = `
Environment:
  DATABASE_URL      PostgreSQL URL; unset: the embedded store (PGlite) in TRESOR_DATA_DIR
  TRESOR_DATA_DIR   embedded store and default key file location (default ./data)
  TRESOR_KEY_FILE, TRESOR_KEY_PROVIDER, TRESOR_KEY_PASSPHRASE   the root key
  TRESOR_CONFIG     a JSON file of settings (the environment wins); every setting: docs/configuration.md`;

const apiEnv = `
Environment:
  TRESOR_URL    the server's base URL, e.g. http://127.0.0.1:8080 (--url wins)
  TRESOR_TOKEN  an API key (--token wins; prefer the variable: a flag shows in the process list)`;

const example = (...lines: string[]) => `\n\nExample:\n${lines.map((l) => `  $ ${l}`).join('\n')}`;

function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 3600) throw new InvalidArgumentError('a whole number of seconds from 1 to 3600');
  return n;
}

/** A command group that several feature blocks add subcommands to. */
function group(program: Command, name: string, description: string): Command {
  return program.commands.find((c) => c.name() === name) ?? program.command(name).description(description);
}

type Action = (...args: never[]) => Promise<number>;

/** Every command gets --json; the action's exit code becomes the process's. */
function withJson(cmd: Command, action: Action): Command {
  return cmd.option('--json', 'print the result (or the error) as JSON on stdout')
    .addHelpText('after', '\nExit codes: 0 done, 1 failed, 2 partly done, 64 usage error (see tresor --help)')
    .action(async (...args: unknown[]) => { process.exitCode = await (action as (...a: unknown[]) => Promise<number>)(...args); });
}

function apiCommand(cmd: Command, examples: string, action: Action): Command {
  cmd.option('--url <url>', 'server base URL (default: $TRESOR_URL)')
    .option('--token <key>', 'API key (default: $TRESOR_TOKEN)')
    .addOption(new Option('--progress-every <seconds>', 'seconds between progress lines when stderr is not a terminal')
      .default(5).argParser(positiveSeconds))
    .addHelpText('after', `${apiEnv}${examples}`);
  return withJson(cmd, action);
}

function storeCommands(program: Command) {
  withJson(program.command('start').description('[store] run the server (store: DATABASE_URL, else embedded PGlite in TRESOR_DATA_DIR)')
    .option('--workers <n>', 'worker processes on one port (PostgreSQL only; default $TRESOR_WORKERS or 1)')
    .addHelpText('after', `${storeEnv}\n  PORT, HOST        where to listen (default 127.0.0.1:8080)\n  TRESOR_TLS_CERT_FILE, TRESOR_TLS_KEY_FILE  HTTPS (a non-loopback HOST needs it, or TRESOR_TRUSTED_PROXIES); SIGHUP re-reads them\n  TRESOR_WORKERS    worker processes${example('DATABASE_URL=postgres://tresor@db/tresor tresor start --workers 4')}`),
  async (o: { workers?: string }) => {
    const { start, loadConfig } = await server();
    await start(loadConfig(o.workers ? { ...process.env, TRESOR_WORKERS: o.workers } : process.env));
    return exitCodes.done;
  });

  withJson(program.command('migrate').description('[store] apply pending database migrations (also done at start)')
    .addHelpText('after', `${storeEnv}${example('DATABASE_URL=postgres://tresor@db/tresor tresor migrate --json')}`),
  async (o: { json?: boolean }) => {
    const { openStore, loadConfig } = await server();
    const { db } = await openStore(loadConfig());
    await db.close();
    printResult(!!o.json, { migrated: true }, 'migrations applied');
    return exitCodes.done;
  });

  const operatorKey = program.command('operator-key').description('[store] platform operator keys')
    .addHelpText('after', `${storeEnv}${example('tresor operator-key create --name ops-2026')}`);
  withJson(operatorKey.command('create').description('create an operator key and print it once (on the stopped embedded store)')
    .requiredOption('--name <name>', 'a name for the key (shown in key lists; not secret)')
    .addHelpText('after', `${storeEnv}${example('tresor operator-key create --name ops-2026 --json')}`),
  async (o: { name: string; json?: boolean }) => {
    const { openStore, loadConfig, createServices } = await server();
    const config = loadConfig();
    const { db, keyProvider } = await openStore(config);
    try {
      const { key } = await createServices(config, { db, keyProvider }).apiKeys.createOperatorKey(o.name);
      printResult(!!o.json, { name: o.name, key }, key);
    } finally { await db.close(); }
    return exitCodes.done;
  });
}

function tenantCommands(program: Command) {
  const tenant = group(program, 'tenant', 'a tenant as a whole: clone [store], export [api], decrypt-export [local]');
  withJson(tenant.command('clone').description('[store] copy a tenant into a staging or test deployment, every personal field replaced by a synthetic value under the target\'s keys')
    .requiredOption('--tenant <id>', 'tenant id (uuid) in this deployment')
    .requiredOption('--to <target>', 'the target store: a postgres:// URL, or an embedded store\'s data dir (not running)')
    .option('--to-key-file <file>', 'the target\'s root key file (default <target dir>/keys/root.key; required with a URL)')
    .option('--pseudonymize', 'replace every personal and special field (required: a plain copy is refused)')
    .addOption(new Option('--progress-every <seconds>', 'seconds between progress lines when stderr is not a terminal').default(5).argParser(positiveSeconds))
    .addHelpText('after', `${storeEnv}\n  The target must declare TRESOR_ENVIRONMENT staging or test (set when it was started or migrated) and not hold the tenant yet.` +
      example('TRESOR_ENVIRONMENT=test TRESOR_DATA_DIR=/srv/test tresor migrate', 'tresor tenant clone --tenant 0192… --to /srv/test --pseudonymize')),
  (o: CloneOptions) => cloneTenantCommand(o));
}

function auditCommands(program: Command) {
  const audit = program.command('audit').description('the tamper-evident audit log (RFC 6962 Merkle tree, Ed25519-signed heads)');
  withJson(audit.command('verify').description('[store] recompute the log offline and check every signed head (and a saved one); exit 1 naming the first bad seq')
    .option('--head <file>', 'a head saved earlier with `tresor audit head > FILE`: prove the log still extends it')
    .addHelpText('after', `${storeEnv}${example('tresor audit verify --head head-2026-01.json')}`),
  async (o: { head?: string; json?: boolean }) => {
    const { openStore, loadConfig } = await server();
    return verifyAuditLog(loadConfig(), o, openStore);
  });
  apiCommand(audit.command('head').description('[api] print the latest signed tree head as JSON (save it to verify against later)')
  , example('tresor audit head > head-$(date +%F).json'),
  (o: RemoteOptions) => printTreeHead(o));
  apiCommand(audit.command('export').description('[api] stream every entry (all tenants) since a time as JSON lines with seq and proof anchor, or to syslog')
    .option('--since <time>', 'entries at or after this date or ISO 8601 time (default: all)')
    .option('--format <format>', 'output format', 'jsonl')
    .option('--syslog <url>', 'send RFC 5424 messages to tcp://host:port or tls://host:port instead of stdout')
    .option('--syslog-ca <file>', 'PEM CA certificate(s) the tls:// destination is verified against (default: system roots)')
    .option('--page-size <n>', 'entries per API request (at most the server\'s TRESOR_LIST_MAX_LIMIT)', '500')
  , example('tresor audit export --since 2026-01-01 --format jsonl > audit.jsonl', 'tresor audit export --since 2026-01-01T00:00:00Z --syslog tls://siem.example:6514'),
  (o: ExportOptions) => exportAudit(o));
}

function apiCommands(program: Command) {
  apiCommand(program.command('import').description('[api] bulk-import an NDJSON file of {"data": {...}} lines; rejected lines are listed by line, code and field')
    .requiredOption('--tenant <id>', 'tenant id (uuid)')
    .requiredOption('--collection <name>', 'collection to import into')
    .argument('<file>', 'NDJSON file, one {"data": {...}} object per line')
  , example('TRESOR_URL=http://127.0.0.1:8080 TRESOR_TOKEN=$KEY tresor import --tenant $TENANT --collection customers customers.jsonl'),
  (file: string, o: RemoteOptions & { tenant: string; collection: string }) => importFile(file, o.tenant, o.collection, o));

  const keys = program.command('keys').description('[api] tenant data keys').addHelpText('after', `${apiEnv}${example('tresor keys rotate --tenant $TENANT')}`);
  apiCommand(keys.command('rotate').description('add a key version and follow the re-encryption of every record until it ends')
    .requiredOption('--tenant <id>', 'tenant id (uuid)')
  , example('tresor keys rotate --tenant $TENANT --json'),
  (o: RemoteOptions & { tenant: string }) => rotateKeys(o.tenant, o));

  const tenant = group(program, 'tenant', 'a tenant as a whole: clone [store], export [api], decrypt-export [local]');
  apiCommand(tenant.command('export').description('stream every record of the tenant (decrypted) as NDJSON: collection lines with field classification, record lines, an end line')
    .requiredOption('--tenant <id>', 'tenant id (uuid)')
    .option('--out <file>', 'write to this new file (mode 0600; never overwritten; FILE.partial until the end line arrives) instead of stdout')
    .option('--to <url>', 'instead: the server seals the export to --recipient-key and POSTs it to this allowlisted URL (TRESOR_EGRESS_ALLOW); prints a summary')
    .option('--recipient-key <file>', 'the tenant\'s X25519 public key (PEM) to seal the export to (with --to)')
  , example('TRESOR_TOKEN=$OPERATOR_KEY tresor tenant export --tenant $TENANT --out acme.ndjson',
    'tresor tenant export --tenant $TENANT --to https://vault.acme.example/tresor --recipient-key acme-export.pub.pem'),
  (o: TenantExportOptions) => exportTenant(o));
  withJson(tenant.command('decrypt-export').description('[local] open a sealed tenant export with the X25519 private key it was sealed to; NDJSON to stdout')
    .requiredOption('--key <file>', 'the X25519 private key, PEM (openssl genpkey -algorithm X25519 -out acme-export.pem)')
    .requiredOption('--in <file>', 'the sealed export as the destination received it')
    .addHelpText('after', example('tresor tenant decrypt-export --key acme-export.pem --in export.sealed > acme.ndjson')),
  (o: { key: string; in: string }) => decryptExport(o));
}

const backupEnv = `
  TRESOR_BACKUP_DIR the backups (default ./backups); restore reads it directly
  TRESOR_PGBACKREST_STANZA, TRESOR_PGBACKREST_CONFIG   PostgreSQL: create, list and restore run pgBackRest (as postgres)
  TRESOR_KEY_FILE, TRESOR_KEY_PROVIDER, TRESOR_KEY_PASSPHRASE   the root key that wrapped the backup key (never in a backup)`;

function backupCommands(program: Command) {
  const backup = program.command('backup').description('encrypted backups of the embedded store: create, list, verify [api]; restore [store]')
    .addHelpText('after', `${apiEnv}${backupEnv}${example('tresor backup create', 'tresor backup list --json', 'tresor backup verify --latest', 'tresor backup restore 20261202T041500123Z-9f86d081 --to /srv/tresor/data-restored')}`);
  apiCommand(backup.command('create').description('[api] back up the running server\'s store now (with TRESOR_PGBACKREST_STANZA: pgBackRest); prints the new id alone on the last line')
    .addOption(new Option('--type <type>', 'pgBackRest only: full or differential').choices(['full', 'diff']).default('diff'))
  , example('id=$(tresor backup create | tail -n 1)', 'sudo -u postgres TRESOR_PGBACKREST_STANZA=tresor tresor backup create --type full'),
  (o: RemoteOptions & { type: 'full' | 'diff' }) => createBackup(o));
  apiCommand(backup.command('list').description('[api] finished backups, newest first; --json prints [{id, createdAt, sizeBytes, …}]')
  , example('tresor backup list --json'), (o: RemoteOptions) => listBackups(o));
  apiCommand(backup.command('verify').description('[api] restore a backup into a scratch store, check it and record signed evidence; exit 1 when a check fails')
    .argument('[id]', 'the backup to verify (default: the newest)')
    .option('--latest', 'verify the newest backup (the default when no id is given)')
  , example('tresor backup verify --latest --json'), (id: string | undefined, o: RemoteOptions & { latest?: boolean }) => {
    if (id && o.latest) throw new CliError('cli.usage', 'give a backup id or --latest, not both');
    return verifyBackup(id, o);
  });
  withJson(backup.command('restore').description('[store] restore a backup into a new, empty data dir (never over a store)')
    .argument('<id>', 'the backup id (tresor backup list)')
    .requiredOption('--to <dir>', 'the new data dir (PostgreSQL: the new cluster\'s data dir); must not exist or be empty')
    .option('--target-time <time>', 'pgBackRest only: recover to this moment, e.g. "2026-12-02 04:30:00+00" (id: the set to start from, or latest)')
    .addOption(new Option('--progress-every <seconds>', 'seconds between progress lines when stderr is not a terminal').default(5).argParser(positiveSeconds))
    .addHelpText('after', `${storeEnv}${backupEnv}${example('TRESOR_BACKUP_DIR=/srv/backups tresor backup restore 20261202T041500123Z-9f86d081 --to /srv/tresor/data-restored')}`),
  (id: string, o: { to: string; json?: boolean; progressEvery: number; targetTime?: string }) => restoreBackup(id, o.to, o));
}

function retentionCommands(program: Command) {
  const retention = program.command('retention').description('[store] data lifecycle: retention policies and the purge of closed tenants')
    .addHelpText('after', `${storeEnv}${example('tresor retention run --json')}`);
  withJson(retention.command('run').description('[store] delete expired records now (progress bar), then purge closed tenants whose retention period ended')
    .option('--as-of <date>', 'act as of this date or ISO 8601 time instead of now (a future one is refused in production)')
    .option('--tenant <id>', 'only this tenant (uuid)')
    .addOption(new Option('--progress-every <seconds>', 'seconds between progress lines when stderr is not a terminal').default(5).argParser(positiveSeconds))
    .addHelpText('after', `${storeEnv}
  TRESOR_RETENTION_BATCH, TRESOR_CLOSED_TENANT_RETENTION_MONTHS   batch size, months a closed tenant is kept${example('TRESOR_ENVIRONMENT=staging tresor retention run --as-of 2027-12-31 --tenant $TENANT')}`),
  async (o: RetentionRunOptions) => {
    const { openStore, loadConfig, createServices } = await server();
    return runRetention(o, { openStore, loadConfig: () => loadConfig(), createServices });
  });
}

function tomCommands(program: Command) {
  const tom = program.command('tom').description('the register of technical and organisational measures (GDPR Art. 32) and its signed annex')
    .addHelpText('after', `${storeEnv}${example('tresor tom report --lang de --format pdf --out tom-annex.pdf', 'tresor tom verify tom-annex.pdf --url $TRESOR_URL')}`);
  withJson(tom.command('report').description('[store] check every measure now and write the signed annex (German or English; Markdown, HTML or PDF)')
    .addOption(new Option('--lang <lang>', 'language').choices(['de', 'en']).default('en'))
    .addOption(new Option('--format <format>', 'md, html (print stylesheet) or pdf (headless Chromium, TRESOR_CHROMIUM_PATH)').choices(['md', 'html', 'pdf']).default('html'))
    .option('--out <file>', 'write the annex to this file (default: stdout)')
    .addHelpText('after', `${storeEnv}
  On a running embedded store use the API instead: GET /v1/tom/report?lang=de&format=pdf${example('tresor tom report --lang de --format pdf --out tom-annex-de.pdf')}`),
  async (o: TomReportOptions) => {
    const { openStore, loadConfig, createServices } = await server();
    return tomReport(o, { openStore, loadConfig: () => loadConfig(), createServices });
  });
  withJson(tom.command('verify').description('check an annex\'s signature: exit 0 when it holds, 1 when any byte was changed or another key signed it')
    .argument('<file>', 'the annex (.md, .html or .pdf) as generated')
    .option('--public-key <base64>', 'the pinned key (publicKey of GET /v1/tom/public-key)')
    .option('--url <url>', 'fetch the key from this server\'s GET /v1/tom/public-key')
    .addHelpText('after', example('tresor tom verify tom-annex-de.pdf --public-key PSUtIyQO…', 'tresor tom verify tom-annex-en.html --url https://tresor.example.eu')),
  (file: string, o: TomVerifyOptions) => tomVerify(file, o));
}

function completionCommand(program: Command) {
  withJson(program.command('completion').description('print a shell completion script (commands and options)')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh']))
    .addHelpText('after', `
Environment: none.${example('source <(tresor completion bash)      # in ~/.bashrc', 'source <(tresor completion zsh)       # in ~/.zshrc, after compinit')}`),
  async (shell: string, o: { json?: boolean }) => {
    const script = shell === 'bash' ? bashCompletion(program) : zshCompletion(program);
    printResult(!!o.json, { shell, script }, script.trimEnd());
    return exitCodes.done;
  });
}

/** Settings made before the subcommands are added are inherited by them (usage errors, output). */
export function buildProgram(configure: (program: Command) => void): Command {
  const program = new Command('tresor');
  configure(program);
  program.description('Tresor: a vault for personal data')
    .version(version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .addHelpText('after', `${apiEnv}
  DATABASE_URL, TRESOR_DATA_DIR, …  for [store] commands (see \`tresor start --help\`)
${exitCodesHelp}${example('tresor start', 'tresor import --tenant $TENANT --collection customers customers.jsonl --json', 'tresor keys rotate --help')}`);
  storeCommands(program);
  apiCommands(program);
  userCommands(program, apiCommand, example);
  incidentCommands(program, apiCommand, example);
  auditCommands(program);
  tenantCommands(program);
  backupCommands(program);
  retentionCommands(program);
  tomCommands(program);
  completionCommand(program);
  return program;
}
