import type { Db, TenantTx } from '../db/db.ts';
import { isUniqueViolation } from '../db/db.ts';
import { RequestError, assertThat } from '../errors.ts';
import { type Actor, authorizeTenant } from '../access/permissions.ts';
import type { SecurityEventsService } from '../security-events/security-events-service.ts';
import { normalisePrefix } from '../transfer/destinations.ts';
import { type InstructionBody, type InstructionRow, instructionsRepo } from './instructions-repo.ts';
import type { InstructionGate } from './instruction-gate.ts';

export const publicInstruction = (r: InstructionRow) => ({
  version: r.version, ...r.body,
  enteredBy: { type: r.enteredByType, id: r.enteredById, role: r.enteredByRole }, enteredAt: r.enteredAt.toISOString(),
  confirmed: r.confirmedAt !== null,
  confirmedBy: r.confirmedAt ? { type: r.confirmedByType!, id: r.confirmedById! } : null,
  confirmedAt: r.confirmedAt?.toISOString() ?? null,
});

export interface InstructionsDeps {
  db: Db; gate: Pick<InstructionGate, 'invalidate'>; securityEvents: Pick<SecurityEventsService, 'inner'>; now?: () => Date;
}

export function instructionsServiceFactory({ db, gate, securityEvents, now = () => new Date() }: InstructionsDeps) {
  const inner = {
    /** Enters a new version (unconfirmed: it is not in force until an operator confirms it). */
    async enter(tx: TenantTx, actor: Actor, body: InstructionBody) {
      authorizeTenant(actor, tx.tenantId, 'instructions.write');
      const ids = body.purposes.map((p) => p.id);
      assertThat(new Set(ids).size === ids.length, () => new RequestError('instruction.invalid', 'Purpose ids must be unique'));
      const bad = body.transfers.findIndex((t) => normalisePrefix(t.destination) === null);
      assertThat(bad < 0, () => new RequestError('instruction.invalid',
        `transfers[${bad}].destination must be an http(s) URL prefix without credentials, query or fragment`));
      try {
        const row = await instructionsRepo.insert(tx, { body, by: actor, at: now() });
        tx.audit({ action: 'instruction.enter', actor, target: { type: 'instruction', id: String(row.version) },
          detail: { version: row.version, purposes: ids.length, transfers: body.transfers.length } });
        return publicInstruction(row);
      } catch (err) {
        if (isUniqueViolation(err)) throw new RequestError('instruction.conflict');
        throw err;
      }
    },

    async list(tx: TenantTx, actor: Actor) {
      authorizeTenant(actor, tx.tenantId, 'instructions.read');
      const items = (await instructionsRepo.list(tx)).map(publicInstruction);
      return { current: items.find((i) => i.confirmed)?.version ?? null, items };
    },

    async get(tx: TenantTx, actor: Actor, version: number) {
      authorizeTenant(actor, tx.tenantId, 'instructions.read');
      const row = await instructionsRepo.find(tx, version);
      assertThat(row, () => new RequestError('instruction.not_found'));
      return publicInstruction(row);
    },

    /** The formal order confirmation: an operator confirms a version; from then on it is in force (unless a later one is confirmed). */
    async confirm(tx: TenantTx, actor: Actor, version: number) {
      authorizeTenant(actor, tx.tenantId, 'instructions.confirm');
      const row = await instructionsRepo.confirm(tx, version, actor, now());
      if (!row) {
        const exists = await instructionsRepo.find(tx, version);
        throw new RequestError(exists ? 'instruction.already_confirmed' : 'instruction.not_found');
      }
      tx.audit({ action: 'instruction.confirm', actor, target: { type: 'instruction', id: String(version) }, detail: { version } });
      await securityEvents.inner.record(tx, { type: 'instruction.confirmed', actor, detail: { version } });
      return publicInstruction(row);
    },
  };

  function inTenant<T>(actor: Actor, tenantId: string, action: 'instructions.read' | 'instructions.write' | 'instructions.confirm',
    fn: (tx: TenantTx) => Promise<T>) {
    authorizeTenant(actor, tenantId, action);
    return db.withTenant(tenantId, fn);
  }

  return {
    inner,
    enter: (actor: Actor, tenantId: string, body: InstructionBody) => inTenant(actor, tenantId, 'instructions.write', (tx) => inner.enter(tx, actor, body)),
    list: (actor: Actor, tenantId: string) => inTenant(actor, tenantId, 'instructions.read', (tx) => inner.list(tx, actor)),
    get: (actor: Actor, tenantId: string, version: number) => inTenant(actor, tenantId, 'instructions.read', (tx) => inner.get(tx, actor, version)),
    confirm: async (actor: Actor, tenantId: string, version: number) => {
      const out = await inTenant(actor, tenantId, 'instructions.confirm', (tx) => inner.confirm(tx, actor, version));
      gate.invalidate(tenantId);
      return out;
    },
  };
}

export type InstructionsService = ReturnType<typeof instructionsServiceFactory>;
