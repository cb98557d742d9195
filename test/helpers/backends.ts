import { test } from 'node:test';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { loadConfig, type Config } from '../../src/config.ts';
import type { Db } from '../../src/db/db.ts';
import { openPglite } from '../../src/db/pglite-driver.ts';
import { openPostgres } from '../../src/db/postgres-driver.ts';
import { migrate } from '../../src/db/migrate.ts';
import { openRootKey } from '../../src/keys/root-key.ts';
import { migratedPgliteImage, migratedTemplateDatabase, writeMigratedPgliteDir } from './migrated-images.ts';

export type BackendName = 'pglite' | 'postgres';

/** Every DB test runs on PGlite, and on PostgreSQL too when TEST_DATABASE_URL is set. */
export const backends: BackendName[] = process.env.TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];

// Without a server the PostgreSQL half of each file shows up as skipped, with
// the reason, rather than being silently absent from the report.
if (!process.env.TEST_DATABASE_URL) {
  test('[postgres] suites of this file', { skip: 'TEST_DATABASE_URL is not set' }, () => {});
}

export interface TestStore {
  backend: BackendName;
  db: Db;
  config: Config;
  /** postgres:// URL of this store's own database (postgres backend only). */
  databaseUrl?: string;
  /** Temp dir holding the root key file (and PGlite data when on disk). */
  dir: string;
  close(): Promise<void>;
}

/**
 * A fresh database on the test server, dropped on close: empty, `migrated`
 * (a copy of a database that ran every migration) or a copy of `template`.
 */
export async function createTestDatabase(opts: { migrated?: boolean; template?: string } = {}): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = new URL(process.env.TEST_DATABASE_URL!);
  const name = `tresor_t_${randomBytes(6).toString('hex')}`;
  const admin = postgres(base.toString(), { max: 1, onnotice: () => {} });
  const template = opts.template ?? (opts.migrated ? await migratedTemplateDatabase(admin) : undefined);
  await admin.unsafe(`create database ${name}${template ? ` template ${template}` : ''}`);
  const url = new URL(base.toString());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

/**
 * A migrated, otherwise empty store for a real `tresor start` (no root key, no
 * operator key yet): a database made from the migrated template, or on PGlite
 * the migrated data dir written under dataDir (the process's TRESOR_DATA_DIR).
 * Tests of a first start on an empty store itself start from scratch instead.
 */
export async function migratedServerStore(backend: BackendName, dataDir: string): Promise<{ env: Record<string, string>; drop: () => Promise<void> }> {
  if (backend === 'postgres') {
    const created = await createTestDatabase({ migrated: true });
    return { env: { DATABASE_URL: created.url }, drop: created.drop };
  }
  await writeMigratedPgliteDir(join(dataDir, 'pglite'));
  return { env: {}, drop: async () => {} };
}

export function testConfig(dir: string, env: Record<string, string> = {}): Config {
  // Backups too stay in the test's temp dir, never in the working directory.
  // Tenants process data without a confirmed instruction unless a test says
  // otherwise (test/instructions covers the production default). Password
  // hashes take argon2id's cheapest allowed parameters: tests onboard many
  // users, and test/crypto/passwords checks the production parameters.
  return loadConfig({ TRESOR_DATA_DIR: join(dir, 'data'), TRESOR_KEY_FILE: join(dir, 'keys', 'root.key'), TRESOR_BACKUP_DIR: join(dir, 'backups'),
    LOG_LEVEL: 'silent', TRESOR_REQUIRE_INSTRUCTION: 'off', TRESOR_ARGON2_MEMORY_KIB: '8192', TRESOR_ARGON2_ITERATIONS: '1', ...env });
}

/**
 * Opens a migrated store with a root key on the given backend. PGlite runs in
 * memory unless `onDisk` (then under dir/data/pglite, as `npm start` does).
 * Both start from a copy of a migrated store; migrate() then finds nothing to do.
 */
export async function openTestStore(backend: BackendName, opts: { env?: Record<string, string>; onDisk?: boolean } = {}): Promise<TestStore> {
  const dir = mkdtempSync(join(tmpdir(), 'tresor-test-'));
  let databaseUrl: string | undefined;
  let drop = async () => {};
  let db: Db;
  if (backend === 'postgres') {
    const created = await createTestDatabase({ migrated: true });
    databaseUrl = created.url;
    drop = created.drop;
  }
  const config = testConfig(dir, { ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}), ...opts.env });
  if (databaseUrl) {
    db = openPostgres({ url: databaseUrl, poolMax: config.dbPoolMax, connectTimeoutMs: config.dbConnectTimeoutMs, statementTimeoutMs: config.dbStatementTimeoutMs });
  } else {
    db = await openPglite(opts.onDisk ? join(dir, 'data', 'pglite') : undefined, { loadDataDir: await migratedPgliteImage() });
  }
  await migrate(db);
  return {
    backend, db, config, databaseUrl, dir,
    close: async () => {
      await db.close();
      await drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A copy of a store this process has let go of (app and db closed; PGlite
 * on disk), so that several tests can each change one arranged store:
 * PGlite's data dir copied, or a PostgreSQL database made from it as a template.
 */
export async function copyStore(store: TestStore): Promise<{ env: Record<string, string>; open(): Promise<Db>; drop(): Promise<void> }> {
  if (store.backend === 'postgres') {
    const created = await createTestDatabase({ template: new URL(store.databaseUrl!).pathname.slice(1) });
    const open = async () => openPostgres({ url: created.url, poolMax: 1, connectTimeoutMs: store.config.dbConnectTimeoutMs, statementTimeoutMs: store.config.dbStatementTimeoutMs });
    return { env: { DATABASE_URL: created.url }, open, drop: created.drop };
  }
  const dir = mkdtempSync(join(tmpdir(), 'tresor-copy-'));
  cpSync(join(store.dir, 'data', 'pglite'), join(dir, 'data', 'pglite'), { recursive: true });
  return { env: { TRESOR_DATA_DIR: join(dir, 'data') }, open: () => openPglite(join(dir, 'data', 'pglite')),
    drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

export { openRootKey };
