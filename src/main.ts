import cluster from 'node:cluster';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { type Config, ConfigError } from './config.ts';
import { openDb } from './db/open-db.ts';
import { isPostgresWriteAfterClose } from './db/postgres-driver.ts';
import type { Db } from './db/db.ts';
import { migrate } from './db/migrate.ts';
import { declareEnvironment } from './environments/environment.ts';
import { openRootKey } from './keys/root-key.ts';
import { rewrapTenantKeys, tenantKeksFor } from './keys/tenant-keks.ts';
import { createServices, type Services } from './services.ts';
import { buildApp, logRedaction } from './app.ts';
import { serveClusterMetrics } from './http/metrics.ts';
import { checkTransport, startupTlsOptions, tlsReloader } from './http/tls.ts';
import type { Server as TlsServer } from 'node:tls';
import { StoreTlsError, isTlsVerifyError } from './db/postgres-driver.ts';

const SIGHUP_READY = 'tresor:sighup-ready';

export function createLogger(config: Config) {
  return pino({ level: config.logLevel, redact: { paths: logRedaction, censor: '[redacted]' } });
}

/** Opens the store, applies migrations, checks the root key and re-wraps keys still under it alone: what every process that owns data does first. */
export async function openStore(config: Config) {
  const db = await openDb(config);
  try {
    await migrate(db);
    await declareEnvironment(db, config.environment);
    const keyProvider = await openRootKey(config, db);
    await rewrapTenantKeys(db, tenantKeksFor(keyProvider, config.tenantKeyDir), keyProvider);
    return { db, keyProvider };
  } catch (err) {
    await db.close();
    // A PostgreSQL certificate that fails verify-full surfaces at the first query.
    throw isTlsVerifyError(err) ? new StoreTlsError(err as Error) : err;
  }
}

// Only a store on which no operator key was ever made gets one minted: once
// any existed (revoked ones count), whoever can restart the process and read
// its output must not become operator. Recovery is `tresor operator-key
// create` on the stopped store. The key goes to the terminal (stderr), or to
// a 0600 file when stderr is not one (systemd sends it to the journal), and
// never into the log stream on stdout.
async function bootstrapOperatorKey(services: Services, config: Config, url: string) {
  if ((await services.apiKeys.operatorKeysEver()) > 0) {
    process.stderr.write(`Tresor is listening on ${url}. No operator key left? Stop the server and run ` +
      '`node bin/tresor.mjs operator-key create --name NAME`.\n');
    return;
  }
  const { key } = await services.apiKeys.createOperatorKey('bootstrap');
  const text = `  export TRESOR_URL=${url}\n  export TRESOR_TOKEN=${key}\n`;
  const advice = 'Create named keys with POST /v1/operator-keys, then revoke this one with DELETE /v1/operator-keys/{id}.\n';
  if (process.stderr.isTTY) {
    process.stderr.write(`\nNo operator key existed, so one was created. It is shown once; store it now:\n\n${text}\n${advice}\n`);
    return;
  }
  const path = join(config.dataDir, 'bootstrap-operator-key');
  mkdirSync(config.dataDir, { recursive: true });
  rmSync(path, { force: true });
  writeFileSync(path, text, { mode: 0o600, flag: 'wx' });
  process.stderr.write(`No operator key existed, so one was created and written to ${path} (mode 0600): store it, then delete the file. ${advice}`);
}

// A superuser bypasses row-level security outside tenant transactions.
async function warnIfSuperuser(db: Db, logger: ReturnType<typeof createLogger>) {
  if (db.kind !== 'postgres') return;
  const [row] = await db.query<{ rolsuper: boolean }>('select rolsuper from pg_roles where rolname = current_user');
  if (row?.rolsuper) logger.warn('connected to PostgreSQL as a superuser: use a dedicated non-superuser login role (see docs/operations.md, Production on PostgreSQL)');
}

/** Runs one server process until SIGINT/SIGTERM, then closes HTTP and the database cleanly. */
export async function startServer(config: Config, opts: { primary: boolean }) {
  const logger = createLogger(config);
  // A driver's stray rejection (e.g. postgres.js on a connection killed while
  // it opens) must not take the whole server down: log it and keep serving.
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));
  if (config.databaseUrl) {
    process.on('uncaughtException', (err) => {
      if (isPostgresWriteAfterClose(err)) return logger.error({ err }, 'postgres.js wrote to a closed connection (driver bug); the transaction fails at its deadline');
      logger.fatal({ err }, 'uncaught exception');
      process.exit(1);
    });
  }
  checkTransport(config);
  const https = startupTlsOptions(config);
  // SIGHUP re-reads the certificate; one that arrives while the process
  // starts is kept for when the listener is up. Without TLS it must not end
  // the process (Node's default). A worker tells the primary it may forward.
  let hupPending = false;
  let onHup = () => { hupPending = true; };
  process.on('SIGHUP', () => onHup());
  if (cluster.isWorker) process.send?.({ type: SIGHUP_READY });
  const { db, keyProvider } = await openStore(config);
  const services = createServices(config, { db, keyProvider, onError: (msg, err) => logger.error({ err }, msg), log: logger });
  const app = await buildApp(config, services, { logger, https });
  const url = await app.listen({ port: config.port, host: config.host });
  onHup = https ? tlsReloader(app.server as unknown as TlsServer, config, logger) : () => logger.info('SIGHUP: no TLS certificate to reload');
  if (hupPending) onHup();
  if (opts.primary) {
    await bootstrapOperatorKey(services, config, url);
    await warnIfSuperuser(db, logger);
  }
  // Every process competes for job leadership; work left by a stopped node resumes on the leader.
  services.jobs.start();
  logger.info({ url, store: db.kind }, 'tresor listening');
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    await app.close();
    await db.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  return { app, url, db };
}

/** With --workers N on PostgreSQL, N processes share the port; the primary prepares the store first. */
export async function start(config: Config) {
  if (config.workers > 1 && !config.databaseUrl) throw new ConfigError(['TRESOR_WORKERS > 1 needs PostgreSQL (DATABASE_URL): the embedded store has one owner']);
  if (config.workers === 1) return void (await startServer(config, { primary: true }));
  if (cluster.isPrimary) {
    checkTransport(config);
    startupTlsOptions(config);
    // Each worker reloads its own certificate, once it handles SIGHUP (before, the signal would end it).
    const ready = new Set<number>();
    cluster.on('message', (w, msg: { type?: string }) => { if (msg?.type === SIGHUP_READY) ready.add(w.id); });
    process.on('SIGHUP', () => { for (const w of Object.values(cluster.workers ?? {})) if (w && ready.has(w.id)) w.process.kill('SIGHUP'); });
    const { db } = await openStore(config);
    await db.close();
    // One scrape of any worker answers for all of them (the primary aggregates).
    serveClusterMetrics();
    for (let i = 0; i < config.workers; i++) cluster.fork();
    cluster.on('exit', (worker, code) => { if (code !== 0) process.stderr.write(`worker ${worker.process.pid} exited with ${code}\n`); });
    const stop = () => { for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM'); };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    return;
  }
  await startServer(config, { primary: cluster.worker?.id === 1 });
}
