import { v7 as uuidv7 } from 'uuid';
import type { Db, TenantTx } from '../db/db.ts';
import { isUniqueViolation } from '../db/db.ts';
import { RequestError, assertThat } from '../errors.ts';
import { type Actor, authorizePlatform, authorizeTenant, systemActor } from '../access/permissions.ts';
import type { Egress } from './egress.ts';
import { TransferError } from './egress.ts';
import { type ChangeKind, type ChangeRow, type ObjectionRow, type OutboxRow, type SubProcessorInput, type SubProcessorRow, subProcessorsRepo as repo } from './sub-processors-repo.ts';

// The platform's sub-processor register. Every change (added, changed,
// removed) is announced to every active tenant through an outbox: the
// `sub-processor-outbox` job POSTs it through the egress module to the
// tenant's notification target, retrying with backoff. Tenants may object
// until the change's objection deadline; operators read the objections.

const DAY_MS = 24 * 3600_000;
const BACKOFF_MAX_MS = 6 * 3600_000;

export const publicSubProcessor = (r: SubProcessorRow) => ({
  id: r.id, name: r.name, service: r.service, country: r.country, dataCategories: r.dataCategories, dpaDate: r.dpaDate,
  createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(),
});
export const publicChange = (c: ChangeRow) => ({
  id: c.id, subProcessorId: c.subProcessorId, kind: c.kind, subProcessor: c.snapshot,
  announcedAt: c.announcedAt.toISOString(), objectionDeadline: c.objectionDeadline.toISOString(),
});
const publicObjection = (o: ObjectionRow) => ({
  id: o.id, tenantId: o.tenantId, changeId: o.changeId, reason: o.reason, objectedBy: { type: o.objectedByType, id: o.objectedById },
  createdAt: o.createdAt.toISOString(),
});

export interface SubProcessorsDeps {
  db: Db; egress: Pick<Egress, 'send' | 'destinationOf'>; now?: () => Date;
  objectionDays: number; attempts: number; retryBaseMs: number; batch: number; listMax: number;
}

export function subProcessorsServiceFactory({ db, egress, now = () => new Date(), objectionDays, attempts, retryBaseMs, batch, listMax }: SubProcessorsDeps) {
  /** Records the change and queues its announcement to every active tenant, in the change's transaction. */
  async function announce(tx: Parameters<Parameters<Db['transaction']>[0]>[0], actor: Actor, row: SubProcessorRow, kind: ChangeKind) {
    const at = now();
    const { id: _id, createdAt: _c, updatedAt: _u, removedAt: _r, ...snapshot } = row;
    const change = await repo.insertChange(tx, { id: uuidv7(), subProcessorId: row.id, kind, snapshot, announcedAt: at,
      objectionDeadline: new Date(at.getTime() + objectionDays * DAY_MS) });
    const tenants = await repo.announce(tx, change.id, at);
    tx.audit({ action: `sub_processor.${kind === 'added' ? 'create' : kind === 'changed' ? 'update' : 'remove'}`, actor, tenantId: null,
      target: { type: 'sub_processor', id: row.id }, detail: { changeId: change.id, country: row.country, tenantsNotified: tenants } });
    return { ...publicSubProcessor(row), change: publicChange(change) };
  }

  const notFound = () => new RequestError('sub_processor.not_found');

  async function deliver(o: OutboxRow): Promise<'delivered' | 'failed'> {
    const [change, target] = await Promise.all([repo.findChange(db, o.changeId), db.withTenant(o.tenantId, (tx) => repo.target(tx))]);
    let error: string | null = null;
    if (!target) error = 'no_target';
    else {
      try {
        await egress.send({ tenantId: o.tenantId, purpose: 'sub_processor_notice', url: target.url, actor: systemActor('sub-processor-outbox'),
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ kind: 'sub_processor.change', tenantId: o.tenantId, change: publicChange(change) }) });
      } catch (err) {
        if (!(err instanceof TransferError)) throw err;
        error = err.code;
      }
    }
    const at = now();
    await db.transaction(async (tx) => {
      if (error === null) await repo.delivered(tx, o, at);
      else await repo.failed(tx, o, error, new Date(at.getTime() + Math.min(retryBaseMs * 2 ** o.attempts, BACKOFF_MAX_MS)));
    });
    return error === null ? 'delivered' : 'failed';
  }

  return {
    create: (actor: Actor, input: SubProcessorInput) => {
      authorizePlatform(actor, 'sub_processors.manage');
      return db.transaction(async (tx) => announce(tx, actor, await repo.insert(tx, uuidv7(), input, now()), 'added'));
    },
    update: (actor: Actor, id: string, input: SubProcessorInput) => {
      authorizePlatform(actor, 'sub_processors.manage');
      return db.transaction(async (tx) => {
        const row = await repo.update(tx, id, input, now());
        assertThat(row, notFound);
        return announce(tx, actor, row, 'changed');
      });
    },
    remove: (actor: Actor, id: string) => {
      authorizePlatform(actor, 'sub_processors.manage');
      return db.transaction(async (tx) => {
        const row = await repo.remove(tx, id, now());
        assertThat(row, notFound);
        return announce(tx, actor, row, 'removed');
      });
    },
    /** The current register and the latest announced changes (what every tenant may read). */
    async list(actor: Actor) {
      authorizePlatform(actor, 'sub_processors.read');
      const [items, changes] = await Promise.all([repo.current(db), repo.changes(db, listMax)]);
      return { items: items.map(publicSubProcessor), changes: changes.map(publicChange) };
    },
    async objections(actor: Actor) {
      authorizePlatform(actor, 'sub_processors.manage');
      return { items: (await repo.allObjections(db, listMax)).map(publicObjection) };
    },
    async deliveries(actor: Actor, changeId: string) {
      authorizePlatform(actor, 'sub_processors.manage');
      assertThat(await repo.findChange(db, changeId), () => new RequestError('sub_processor.change_not_found'));
      return { items: (await repo.deliveries(db, changeId)).map((d) => ({ ...d, deliveredAt: d.deliveredAt?.toISOString() ?? null })) };
    },

    /** A tenant objects to an announced change, within its objection period. */
    object(actor: Actor, tenantId: string, input: { changeId: string; reason: string }) {
      authorizeTenant(actor, tenantId, 'sub_processors.object');
      return db.withTenant(tenantId, async (tx: TenantTx) => {
        const change = await repo.findChange(tx, input.changeId);
        assertThat(change, () => new RequestError('sub_processor.change_not_found'));
        const at = now();
        assertThat(at <= change.objectionDeadline, () => new RequestError('sub_processor.objection_period_over',
          `Objections to this change were taken until ${change.objectionDeadline.toISOString()}`));
        try {
          const row = await repo.insertObjection(tx, { tenantId, id: uuidv7(), changeId: change.id, reason: input.reason,
            objectedByType: actor.type, objectedById: actor.id, createdAt: at });
          // The reason is the tenant's words: kept with the objection, not in the log.
          tx.audit({ action: 'sub_processor.object', actor, target: { type: 'sub_processor_change', id: change.id }, detail: { objectionId: row.id } });
          return publicObjection(row);
        } catch (err) {
          if (isUniqueViolation(err)) throw new RequestError('sub_processor.already_objected');
          throw err;
        }
      });
    },
    tenantObjections(actor: Actor, tenantId: string) {
      authorizeTenant(actor, tenantId, 'sub_processors.read');
      return db.withTenant(tenantId, async (tx) => ({ items: (await repo.tenantObjections(tx)).map(publicObjection) }));
    },

    /** Where the tenant hears of changes; it must be covered by the egress allowlist. */
    setTarget(actor: Actor, tenantId: string, url: string) {
      authorizeTenant(actor, tenantId, 'notifications.manage');
      const parsed = URL.canParse(url) ? new URL(url) : null;
      assertThat(parsed && ['http:', 'https:'].includes(parsed.protocol) && !parsed.username && !parsed.password && egress.destinationOf(parsed),
        () => new RequestError('transfer.destination_not_allowed', 'The notification URL must be an http(s) URL covered by the egress allowlist (TRESOR_EGRESS_ALLOW)'));
      return db.withTenant(tenantId, async (tx) => {
        const at = now();
        await repo.setTarget(tx, url, at);
        tx.audit({ action: 'notification_target.set', actor, target: { type: 'tenant', id: tenantId }, detail: { origin: parsed!.origin } });
        return { url, updatedAt: at.toISOString() };
      });
    },
    getTarget(actor: Actor, tenantId: string) {
      authorizeTenant(actor, tenantId, 'notifications.manage');
      return db.withTenant(tenantId, async (tx) => {
        const t = await repo.target(tx);
        return { url: t?.url ?? null, updatedAt: t?.updatedAt.toISOString() ?? null };
      });
    },

    /** One pass of the outbox: due deliveries, oldest first; counts what happened. */
    async deliverDue(stopping: () => boolean = () => false) {
      const counts = { delivered: 0, failed: 0 };
      for (const o of await repo.due(db, now(), attempts, batch)) {
        if (stopping()) break;
        counts[await deliver(o)]++;
      }
      return counts;
    },
  };
}

export type SubProcessorsService = ReturnType<typeof subProcessorsServiceFactory>;
