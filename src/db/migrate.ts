import { readdirSync, readFileSync } from 'node:fs';
import type { Db } from './db.ts';

const dir = new URL('./migrations/', import.meta.url);

export interface Migration { version: number; name: string; sql: string }

export function listMigrations(): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.slice(0, 4)), name: f.slice(5, -4), sql: readFileSync(new URL(f, dir), 'utf8') }));
}

export const latestMigration = (): number => Math.max(0, ...listMigrations().map((m) => m.version));

/** Applies pending migrations, each in its own transaction; safe to run from several processes at once. */
export async function migrate(db: Db): Promise<number[]> {
  await db.exec(`create table if not exists schema_migrations (
    version int primary key, name text not null, applied_at timestamptz not null default now())`);
  const applied: number[] = [];
  for (const m of listMigrations()) {
    const done = await db.transaction(async (tx) => {
      // Serialises concurrent starters; the lock ends with the transaction.
      await tx.query('select pg_advisory_xact_lock(7310001)');
      const seen = await tx.query('select 1 from schema_migrations where version = $1', [m.version]);
      if (seen.length) return false;
      await tx.exec(m.sql);
      await tx.query('insert into schema_migrations (version, name) values ($1, $2)', [m.version, m.name]);
      return true;
    });
    if (done) applied.push(m.version);
  }
  return applied;
}
