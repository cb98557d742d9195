import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { listMigrations, migrate } from '../../src/db/migrate.ts';
import { openPglite } from '../../src/db/pglite-driver.ts';
import { openPostgres } from '../../src/db/postgres-driver.ts';

// A fresh PGlite store costs an initdb (seconds of CPU) and every store ran all
// migrations: most test stores instead start from a copy of one migrated store.
// Copies are keyed by the migration files (and the PGlite version), so a
// changed or added migration builds a new one. Real `tresor` processes in the
// CLI tests mostly start from a copy too (writeMigratedPgliteDir, or a database
// from the template); `tresor migrate` and a first `tresor start` on an empty
// store are still tested from scratch (test/cli/cli, test/db/embedded-lock), and
// createTestDatabase() without options gives an empty database.

const pgliteVersion: string = JSON.parse(readFileSync(new URL('../../node_modules/@electric-sql/pglite/package.json', import.meta.url), 'utf8')).version;

/** Hash of everything that shapes a migrated store. */
export const migrationsKey = (() => {
  const hash = createHash('sha256').update(`pglite ${pgliteVersion}\n`);
  for (const m of listMigrations()) hash.update(`${m.version} ${m.name}\n${m.sql}\n`);
  return hash.digest('hex').slice(0, 16);
})();

let pgliteImage: Promise<Blob> | undefined;
const pgliteImageFile = join(tmpdir(), `tresor-test-pglite-${migrationsKey}.tar`);

/**
 * The data dir of a migrated PGlite store as a tar, shared by the test
 * processes of a run through a file in the temp dir (written whole, then
 * renamed into place, so a reader never sees half of one).
 */
export function migratedPgliteImage(): Promise<Blob> {
  pgliteImage ??= (async () => {
    const file = pgliteImageFile;
    if (existsSync(file)) return new Blob([readFileSync(file)]);
    const db = await openPglite(undefined);
    await migrate(db);
    const { tar } = await db.snapshot!(async () => undefined); // the embedded driver always has it
    await db.close();
    const partial = `${file}.${randomBytes(6).toString('hex')}.partial`;
    writeFileSync(partial, Buffer.from(await tar.arrayBuffer()));
    renameSync(partial, file);
    return tar;
  })();
  return pgliteImage;
}

/**
 * Writes the migrated PGlite store into `pgliteDir` (TRESOR_DATA_DIR/pglite),
 * for a real `tresor` process to open as an existing store: the same files
 * PGlite's own loadDataDir unpacks from the image, extracted by tar(1) so the
 * test process need not load PGlite's WebAssembly for it.
 */
export async function writeMigratedPgliteDir(pgliteDir: string): Promise<void> {
  if (!existsSync(pgliteImageFile)) await migratedPgliteImage();
  mkdirSync(pgliteDir, { recursive: true, mode: 0o700 });
  execFileSync('tar', ['-xf', pgliteImageFile, '-C', pgliteDir], { stdio: ['ignore', 'ignore', 'pipe'] });
}

let pgTemplate: Promise<string> | undefined;

/**
 * The name of a migrated database on the test server, made once (under an
 * advisory lock, built under another name and renamed when complete) and kept
 * for later runs; nothing connects to it after, so it can serve as a template.
 */
export function migratedTemplateDatabase(admin: postgres.Sql): Promise<string> {
  pgTemplate ??= (async () => {
    const name = `tresor_tpl_${migrationsKey}`;
    const building = `tresor_tplb_${migrationsKey}`;
    await admin`select pg_advisory_lock(7310077)`;
    try {
      if ((await admin`select 1 from pg_database where datname = ${name}`).length) return name;
      await admin.unsafe(`drop database if exists ${building} with (force)`);
      await admin.unsafe(`create database ${building}`);
      const url = new URL(process.env.TEST_DATABASE_URL!);
      url.pathname = `/${building}`;
      const db = openPostgres({ url: url.toString(), poolMax: 1, connectTimeoutMs: 10_000, statementTimeoutMs: 60_000 });
      try {
        await migrate(db);
      } finally {
        await db.close();
      }
      await admin.unsafe(`alter database ${building} rename to ${name}`);
      return name;
    } finally {
      await admin`select pg_advisory_unlock(7310077)`;
    }
  })();
  return pgTemplate;
}
