import cluster from 'node:cluster';
import pino from 'pino';
import type { Config } from './config.ts';
import { openDb } from './db/open-db.ts';
import { migrate } from './db/migrate.ts';
import { openRootKey } from './keys/root-key.ts';
import { createServices, type Services } from './services.ts';
import { buildApp, logRedaction } from './app.ts';

export function createLogger(config: Config) {
  return pino({ level: config.logLevel, redact: { paths: logRedaction, censor: '[redacted]' } });
}

/** Opens the store, applies migrations and checks the root key: what every process that owns data does first. */
export async function openStore(config: Config) {
  const db = await openDb(config);
  try {
    await migrate(db);
    const keyProvider = await openRootKey(config, db);
    return { db, keyProvider };
  } catch (err) {
    await db.close();
    throw err;
  }
}

// A first start has no operator key and the store is locked by the server, so
// it mints one and shows it once on the terminal (never in the log).
async function bootstrapOperatorKey(services: Services, url: string) {
  if ((await services.apiKeys.operatorKeyCount()) > 0) {
    process.stdout.write(`Tresor is listening on ${url}. Lost the operator key? Stop the server and run ` +
      '`npm run tresor -- operator-key create --name NAME`.\n');
    return;
  }
  const { key } = await services.apiKeys.createOperatorKey('bootstrap');
  process.stdout.write(
    `\nNo operator key existed, so one was created. It is shown once; store it now:\n\n  export TRESOR_URL=${url}\n  export TRESOR_TOKEN=${key}\n\n` +
      'Create named keys with POST /v1/operator-keys, then revoke this one with DELETE /v1/operator-keys/{id}.\n\n',
  );
}

async function resumeRotations(services: Services) {
  for (const tenantId of await services.tenants.listIds()) {
    const { versions } = await services.keys.status(tenantId);
    const retiring = versions.filter((v) => v.status === 'retiring').map((v) => v.version);
    const active = versions.find((v) => v.status === 'active');
    if (retiring.length && active) services.rotation.resume(tenantId, active.version, retiring);
  }
}

/** Runs one server process until SIGINT/SIGTERM, then closes HTTP and the database cleanly. */
export async function startServer(config: Config, opts: { primary: boolean }) {
  const logger = createLogger(config);
  // A driver's stray rejection (e.g. postgres.js on a connection killed while
  // it opens) must not take the whole server down: log it and keep serving.
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));
  const { db, keyProvider } = await openStore(config);
  const services = createServices(config, { db, keyProvider, onError: (msg, err) => logger.error({ err }, msg) });
  const app = await buildApp(config, services, { logger });
  const url = await app.listen({ port: config.port, host: config.host });
  if (opts.primary) {
    await bootstrapOperatorKey(services, url);
    await resumeRotations(services);
  }
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
  if (config.workers > 1 && !config.databaseUrl) throw new Error('TRESOR_WORKERS > 1 needs PostgreSQL (DATABASE_URL): the embedded store has one owner');
  if (config.workers === 1) return void (await startServer(config, { primary: true }));
  if (cluster.isPrimary) {
    const { db } = await openStore(config);
    await db.close();
    for (let i = 0; i < config.workers; i++) cluster.fork();
    cluster.on('exit', (worker, code) => { if (code !== 0) process.stderr.write(`worker ${worker.process.pid} exited with ${code}\n`); });
    const stop = () => { for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM'); };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    return;
  }
  await startServer(config, { primary: cluster.worker?.id === 1 });
}
