import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import type { Db } from './db.ts';
import { acquireDataDirLock } from './data-dir-lock.ts';
import { openPglite } from './pglite-driver.ts';
import { openPostgres } from './postgres-driver.ts';

/** Opens the configured store: PostgreSQL when DATABASE_URL is set, else the embedded PGlite under dataDir (locked). */
export async function openDb(config: Config): Promise<Db> {
  if (config.databaseUrl) {
    return openPostgres({
      url: config.databaseUrl,
      ...(config.databaseCaFile ? { ca: readFileSync(config.databaseCaFile, 'utf8') } : {}),
      poolMax: config.dbPoolMax,
      connectTimeoutMs: config.dbConnectTimeoutMs,
      statementTimeoutMs: config.dbStatementTimeoutMs,
    });
  }
  const release = acquireDataDirLock(config.dataDir);
  try {
    const db = await openPglite(join(config.dataDir, 'pglite'));
    return { ...db, close: async () => { try { await db.close(); } finally { release(); } } };
  } catch (err) {
    release();
    throw err;
  }
}
