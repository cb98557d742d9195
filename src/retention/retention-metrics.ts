import { Counter, Gauge, type Registry } from 'prom-client';
import type { RetentionService } from './retention-service.ts';
import type { PurgeService } from '../tenants/purge-service.ts';

/** Read from the services' own counts: a scrape never waits for the database. */
export function registerRetentionMetrics(registry: Registry, { retention, purge }: { retention: RetentionService; purge: PurgeService }) {
  new Counter({ name: 'tresor_retention_records_deleted_total', help: 'Records deleted by retention policies', registers: [registry],
    collect() { this.reset(); this.inc(retention.stats().deletedTotal); } });
  new Gauge({ name: 'tresor_retention_last_run_timestamp_seconds', help: 'When the retention job last finished a run (0: never in this process)',
    registers: [registry], collect() { const at = retention.stats().lastRunAt; this.set(at ? at.getTime() / 1000 : 0); } });
  new Gauge({ name: 'tresor_retention_last_run_deleted', help: 'Records the last retention run deleted', registers: [registry],
    collect() { this.set(retention.stats().lastRunDeleted); } });
  new Counter({ name: 'tresor_tenants_purged_total', help: 'Closed tenants purged (keys destroyed, rows deleted, certificate issued)', registers: [registry],
    collect() { this.reset(); this.inc(purge.stats().purgedTotal); } });
}
