import { Type } from 'typebox';
import type { App } from './app-types.ts';
import { access } from './access.ts';
import type { Db } from '../db/db.ts';
import { latestMigration } from '../db/migrate.ts';
import { RequestError } from '../errors.ts';
import { errorResponses } from './schemas.ts';

export function healthRoutes(app: App, { db, environment }: { db: Db; environment: 'production' | 'staging' | 'test' }) {
  app.get('/healthz', { config: access.public, schema: { operationId: 'getHealth', summary: 'Liveness', description: 'Answers while the process runs; touches no database. `environment` is the deployment\'s declared environment (`TRESOR_ENVIRONMENT`).', tags: ['health'],
      response: { 200: Type.Object({ status: Type.Literal('ok'), environment: Type.Union([Type.Literal('production'), Type.Literal('staging'), Type.Literal('test')]) }) } } },
    async () => ({ status: 'ok' as const, environment }));

  // Ready means: the database answers, takes writes, and its schema is at this
  // build's migration. A hot standby answers reads, so a load balancer that
  // only saw a read succeed would keep sending writes to a node that fails them.
  app.get('/readyz', {
    config: { ...access.public, problems: ['service.unavailable'] },
    schema: { operationId: 'getReadiness', summary: 'Readiness', tags: ['health'],
      description: 'Ready once the database answers, is the primary (not a read-only standby) and its schema is at this build\'s migration; 503 with Retry-After until then.', response: { 200: Type.Object({ status: Type.Literal('ready'), migration: Type.Integer() }), ...errorResponses } },
  }, async () => {
    // transaction_read_only is on in a hot standby and wherever writes are
    // refused, the same question libpq's target_session_attrs=read-write asks.
    const [state] = await db.query<{ v: number | null; standby: boolean; read_only: string }>(
      "select max(version) as v, pg_is_in_recovery() as standby, current_setting('transaction_read_only') as read_only from schema_migrations");
    if (state?.standby || state?.read_only === 'on') {
      throw new RequestError('service.unavailable', `Connected to a ${state.standby ? 'standby' : 'read-only session'}: no writes until Tresor reaches the primary`, { retryAfterSeconds: 2 });
    }
    const version = state?.v ?? 0;
    if (version < latestMigration()) throw new RequestError('service.unavailable', `Migrations pending: at ${version} of ${latestMigration()}`, { retryAfterSeconds: 5 });
    return { status: 'ready' as const, migration: version };
  });
}
