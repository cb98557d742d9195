import type { Config } from '../config.ts';
import type { Db } from '../db/db.ts';
import type { KeyProvider } from '../crypto/key-provider.ts';
import type { createServices as CreateServices } from '../services.ts';
import { CliError, exitCodes, printResult } from './output.ts';
import { startProgress } from './progress.ts';

export interface RetentionRunOptions { asOf?: string; tenant?: string; json?: boolean; progressEvery: number }

interface Store {
  loadConfig(): Config;
  openStore(config: Config): Promise<{ db: Db; keyProvider: KeyProvider }>;
  createServices: typeof CreateServices;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A date (midnight UTC) or an ISO 8601 time. */
export function parseAsOf(text: string): Date {
  const at = /^\d{4}-\d{2}-\d{2}$/.test(text) ? new Date(`${text}T00:00:00Z`) : /^\d{4}-\d{2}-\d{2}T/.test(text) ? new Date(text) : new Date(NaN);
  if (Number.isNaN(at.getTime())) throw new CliError('cli.usage', '--as-of must be a date (2027-01-31) or an ISO 8601 time (2027-01-31T12:00:00Z)');
  return at;
}

/**
 * [store] One retention pass now, or as of another moment: every expired
 * record deleted (a progress bar over the expired count), then every closed
 * tenant whose retention period has ended purged, with its certificate.
 * Production refuses a moment in the future, as it refuses TRESOR_CLOCK_OFFSET.
 */
export async function runRetention(o: RetentionRunOptions, store: Store): Promise<number> {
  const config = store.loadConfig();
  const asOf = o.asOf ? parseAsOf(o.asOf) : undefined;
  if (asOf && asOf.getTime() > Date.now() && config.environment === 'production') {
    throw new CliError('cli.usage', '--as-of in the future is refused in production (TRESOR_ENVIRONMENT=production): it would delete data early');
  }
  const tenantId = o.tenant?.toLowerCase();
  if (tenantId !== undefined && !UUID.test(tenantId)) throw new CliError('cli.usage', '--tenant must be a tenant id (uuid)');
  const { db, keyProvider } = await store.openStore(config);
  try {
    const services = store.createServices(config, { db, keyProvider, ...(asOf ? { now: () => asOf } : {}) });
    const total = await services.retention.countExpired({ asOf, tenantId });
    const progress = startProgress({ label: 'retention', unit: 'records deleted', total, everyMs: o.progressEvery * 1000 });
    let run;
    try {
      run = await services.retention.enforce({ asOf, tenantId, onProgress: (n) => progress.update(n) });
    } finally { progress.stop(); }
    const purged = await services.purge.purgeDue({ asOf, tenantId });
    const result = { ...run, purged };
    printResult(!!o.json, result, [`retention as of ${run.asOf}: ${run.deleted} records deleted${run.held ? `, ${run.held} kept under legal hold` : ''}`,
      ...run.collections.map((c) => `  ${c.tenantId} ${c.collection}: ${c.deleted}`),
      `${purged.length} closed tenants purged`, ...purged.map((p) => `  ${p.tenantId}: deletion certificate ${p.certificateId}`)].join('\n'));
    return exitCodes.done;
  } finally { await db.close(); }
}
