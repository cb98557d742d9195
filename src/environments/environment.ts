// Test/prod separation: each deployment declares what it holds
// (TRESOR_ENVIRONMENT), records it in its store, and production data reaches a
// non-production deployment only pseudonymised (`tresor tenant clone
// --pseudonymize`), never as a restore or a plain copy.
import type { Queries } from '../db/db.ts';

export const ENVIRONMENTS = ['production', 'staging', 'test'] as const;
export type Environment = typeof ENVIRONMENTS[number];

/** Written by every process that opens its store (start, `tresor migrate`): the store says which deployment it belongs to. */
export async function declareEnvironment(db: Queries, environment: Environment): Promise<void> {
  await db.query(`insert into deployment (environment) values ($1)
    on conflict (id) do update set environment = excluded.environment, declared_at = now()`, [environment]);
}

/** The environment a store was declared for; null when no Tresor has opened it yet. */
export async function declaredEnvironment(db: Queries): Promise<Environment | null> {
  const [row] = await db.query<{ environment: Environment }>('select environment from deployment');
  return row?.environment ?? null;
}

/**
 * Whether data from `source` may land in `target` as it is (restore, plain
 * copy). An unknown source (a backup from before environments were recorded)
 * counts as production: the refusal is the safe side.
 */
export const mayReceiveAsIs = (source: Environment | null | undefined, target: Environment) =>
  target === 'production' || (source ?? 'production') !== 'production';
