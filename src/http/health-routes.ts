import { Type } from 'typebox';
import type { App } from './app-types.ts';
import { access } from './access.ts';
import type { Db } from '../db/db.ts';
import { latestMigration } from '../db/migrate.ts';
import { RequestError } from '../errors.ts';
import { errorResponses } from './schemas.ts';

export function healthRoutes(app: App, { db }: { db: Db }) {
  app.get('/healthz', { config: access.public, schema: { operationId: 'getHealth', summary: 'Liveness', description: 'Answers while the process runs; touches no database.', tags: ['health'],
      response: { 200: Type.Object({ status: Type.Literal('ok') }) } } },
    async () => ({ status: 'ok' as const }));

  // Ready means: the database answers and its schema is at this build's migration.
  app.get('/readyz', {
    config: { ...access.public, problems: ['service.unavailable'] },
    schema: { operationId: 'getReadiness', summary: 'Readiness', tags: ['health'],
      description: 'Ready once the database answers and its schema is at this build\'s migration; 503 with Retry-After until then.', response: { 200: Type.Object({ status: Type.Literal('ready'), migration: Type.Integer() }), ...errorResponses } },
  }, async () => {
    const applied = await db.query<{ v: number | null }>('select max(version) as v from schema_migrations');
    const version = applied[0]?.v ?? 0;
    if (version < latestMigration()) throw new RequestError('service.unavailable', `Migrations pending: at ${version} of ${latestMigration()}`, { retryAfterSeconds: 5 });
    return { status: 'ready' as const, migration: version };
  });
}
