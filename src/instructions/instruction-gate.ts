import type { Db, TenantTx } from '../db/db.ts';
import { RequestError } from '../errors.ts';
import type { Actor } from '../access/permissions.ts';
import { createKeyCache } from '../crypto/keyring.ts';
import type { SecurityEventsService } from '../security-events/security-events-service.ts';
import { normalisePrefix, underPrefix } from '../transfer/destinations.ts';
import { type InstructionRow, instructionsRepo } from './instructions-repo.ts';

// The one check on the data path (records, import, search): the operation's
// purposes must be covered by the tenant's current confirmed instruction.
// The purposes an operation serves are its collection's, narrowed to the
// API key's when the key is bound to purposes. A tenant without a confirmed
// instruction may process data only when the platform allows it
// (TRESOR_REQUIRE_INSTRUCTION). The confirmed version is cached per tenant
// (TRESOR_INSTRUCTION_CACHE_TTL_MS); a confirmation on this process clears
// the entry at once, on others within the TTL.

export type InstructionOperation = 'read' | 'write' | 'search' | 'import';
export type RefusalReason = 'no_confirmed_instruction' | 'no_purpose' | 'purpose_not_covered';

interface Confirmed { version: number; purposes: ReadonlySet<string>; transfers: InstructionRow['body']['transfers'] }

/** An operation outside the instruction: 403 `instruction.not_covered`, recorded as a security event once its transaction is over. */
export class InstructionRefusal extends RequestError {
  constructor(readonly reason: RefusalReason, readonly collection: string, readonly operation: InstructionOperation,
    readonly purposes: readonly string[], readonly version: number | null) {
    super('instruction.not_covered', reason === 'no_confirmed_instruction'
      ? 'The tenant has no confirmed instruction, and this platform processes data only on confirmed instructions'
      : reason === 'no_purpose'
        ? `Collection '${collection}' serves no purpose that this credential may act for`
        : `The confirmed instruction (version ${version}) does not cover the purposes of collection '${collection}' for this credential`);
  }
}

export interface GateDeps {
  db: Db;
  securityEvents: Pick<SecurityEventsService, 'recordAlone'>;
  required: boolean;
  cache: { max: number; ttlMs: number };
  onError?: (msg: string, err: unknown) => void;
}

export function instructionGate({ db, securityEvents, required, cache: limits, onError = () => {} }: GateDeps) {
  const cache = createKeyCache<{ c: Confirmed | null }>(limits);

  async function confirmed(tx: TenantTx): Promise<Confirmed | null> {
    const hit = cache.get(tx.tenantId);
    if (hit) return hit.c;
    const row = await instructionsRepo.current(tx);
    const c = row ? { version: row.version, purposes: new Set(row.body.purposes.map((p) => p.id)), transfers: row.body.transfers } : null;
    cache.set(tx.tenantId, { c });
    return c;
  }

  /** The purposes an operation on `collection` by `actor` serves. */
  function purposesOf(actor: Actor, collectionPurposes: readonly string[]): readonly string[] {
    const keyPurposes = actor.type === 'api_key' ? actor.purposes ?? null : null;
    if (!keyPurposes) return collectionPurposes;
    return collectionPurposes.length ? collectionPurposes.filter((p) => keyPurposes.includes(p)) : keyPurposes;
  }

  return {
    /** Throws InstructionRefusal unless the current confirmed instruction covers a purpose of this operation. */
    async check(tx: TenantTx, actor: Actor, collection: { name: string; purposes: readonly string[] }, operation: InstructionOperation): Promise<void> {
      const current = await confirmed(tx);
      const purposes = purposesOf(actor, collection.purposes);
      if (!current) {
        if (required) throw new InstructionRefusal('no_confirmed_instruction', collection.name, operation, purposes, null);
        return;
      }
      if (!purposes.length) throw new InstructionRefusal('no_purpose', collection.name, operation, purposes, current.version);
      if (!purposes.some((p) => current.purposes.has(p))) {
        throw new InstructionRefusal('purpose_not_covered', collection.name, operation, purposes, current.version);
      }
    },

    /** Records a refusal as the security event `instruction.not_covered` (also an audit entry), in a transaction of its own. */
    async recordRefusal(actor: Actor, tenantId: string, err: InstructionRefusal): Promise<void> {
      try {
        await securityEvents.recordAlone({ type: 'instruction.not_covered', actor, tenantId,
          detail: { reason: err.reason, collection: err.collection, operation: err.operation, purposes: err.purposes, version: err.version } });
      } catch (e) {
        onError('recording an instruction.not_covered security event failed', e);
      }
    },

    /** For the egress module: the mechanism the confirmed instruction names for a transfer to `url` in `country`, or null. */
    async mechanismFor(tenantId: string, url: URL, country: string): Promise<string | null> {
      const current = await db.withTenant(tenantId, (tx) => confirmed(tx));
      const t = current?.transfers.find((x) => x.country === country && normalisePrefix(x.destination) !== null
        && underPrefix(url, normalisePrefix(x.destination)!));
      return t?.mechanism ?? null;
    },

    invalidate: (tenantId: string) => cache.delete(tenantId),
  };
}

export type InstructionGate = ReturnType<typeof instructionGate>;
