import type { Db } from '../db/db.ts';
import { isUniqueViolation } from '../db/db.ts';
import { type Actor, authorizeTenant } from '../access/permissions.ts';
import type { CollectionsService } from '../collections/collections-service.ts';
import type { CollectionRow } from '../collections/collections-repo.ts';
import type { RecordLimits } from '../collections/field-types.ts';
import type { KeysService, KeyRing } from '../keys/keys-service.ts';
import { type EncodedRecord, type IndexEntry, decodeRecord } from './record-codec.ts';
import { type PseudonymsService, pseudonymFields } from '../pseudonyms/pseudonyms-service.ts';
import { createEncodePool } from './encode-pool.ts';
import type { EncodedLine, LineRejection, RawLine } from './import-line.ts';
import { recordsRepo } from './records-repo.ts';
import type { NdjsonLine } from './ndjson-lines.ts';
import type { Meters } from '../http/metrics.ts';
import { type InstructionGate, InstructionRefusal } from '../instructions/instruction-gate.ts';

export interface ImportLimits {
  /** Lines and bytes per encode batch (the bytes bound memory when lines are large). */
  batchSize: number; batchBytes: number;
  /** Unique values remembered per import to refuse in-file duplicates early; the database catches the rest. */
  dedupMax: number;
  /** Rejected lines listed in the answer (all are counted). */
  reportMax: number;
}
export interface ImportDeps {
  db: Db; collections: Pick<CollectionsService, 'find'>; keys: Pick<KeysService, 'ringFor'>;
  pseudonyms: Pick<PseudonymsService['inner'], 'writtenMany'>;
  instructions: Pick<InstructionGate, 'check' | 'recordRefusal'>;
  poolSize: number; limits: ImportLimits; recordLimits: RecordLimits; meters: Pick<Meters, 'importLines'>;
}
interface Pending { line: number; id: string; fields: string[]; row: string; unique: IndexEntry[] }
export interface ImportResult { imported: number; rejected: LineRejection[]; rejectedCount: number }
type Reject = (r: LineRejection) => void;

/** Encoded lines in line order: rejections reported, in-file duplicates of a unique value refused. */
function acceptInOrder(results: EncodedLine[], seen: Set<string>, dedupMax: number, reject: Reject): Pending[] {
  const batch: Pending[] = [];
  for (const r of results) {
    if (!('row' in r)) { reject(r); continue; }
    const { unique } = r;
    const dup = unique.find((e) => seen.has(`${e.field}:${e.hash}`));
    if (dup) { reject({ line: r.line, code: 'record.unique_violation', field: dup.field }); continue; }
    // Past dedupMax the set stops growing: the pre-insert check and the
    // database's unique index still refuse a duplicate, one batch later.
    for (const e of unique) if (seen.size < dedupMax) seen.add(`${e.field}:${e.hash}`);
    batch.push(r);
  }
  return batch;
}

// A client moving its data in: every line is validated, valid lines are
// written in batches (one transaction each), rejected lines are reported by
// number, code and field only, never by value.
export function importServiceFactory({ db, collections, keys, pseudonyms, instructions, poolSize, limits, recordLimits, meters }: ImportDeps) {
  const pool = createEncodePool(poolSize);
  interface Run { actor: Actor; tenantId: string; c: CollectionRow; ring: KeyRing; keyVersion: number; result: ImportResult; reject: Reject }

  async function insertBatch(run: Run, batch: Pending[]): Promise<void> {
    const { tenantId, c, keyVersion } = run;
    try {
      const taken = await db.withTenant(tenantId, async (tx) => {
        const unique = batch.flatMap((p) => p.unique);
        const found = new Set(unique.length ? (await recordsRepo.takenUnique(tx, c.id, unique)).map((t) => `${t.field}:${t.hash}`) : []);
        const clashes = batch.map((p) => ({ p, hit: p.unique.find((e) => found.has(`${e.field}:${e.hash}`)) }));
        const written = clashes.filter((x) => !x.hit).map(({ p }) => p);
        if (written.length) {
          await recordsRepo.insertMany(tx, { tenantId, collectionId: c.id, keyVersion, rowsJson: `[${written.map((p) => p.row).join(',')}]` });
          // The workers return sealed rows only: pseudonym mappings are made from them here (pseudonymize collections only).
          if (pseudonymFields(c).length) {
            await pseudonyms.writtenMany(tx, run.actor, c, written.map((p) => {
              const rec = JSON.parse(p.row) as EncodedRecord;
              return { recordId: p.id, values: decodeRecord(run.ring, { tenantId, collectionId: c.id, recordId: p.id },
                { keyVersion, enc: {}, plain: rec.plain, sealed: Buffer.from(rec.sealed, 'base64') }) };
            }));
          }
          // One entry per batch, naming every record it wrote.
          tx.audit({ action: 'record.import', actor: run.actor, collection: c.name, recordIds: written.map((p) => p.id),
            fields: [...new Set(written.flatMap((p) => p.fields))] });
        }
        return clashes.filter((x) => x.hit);
      });
      // Counted once committed (a rolled-back batch is retried below), and
      // after the await: `imported += await …` would read the count before it.
      for (const { p, hit } of taken) run.reject({ line: p.line, code: 'record.unique_violation', field: hit!.field });
      run.result.imported += batch.length - taken.length;
      meters.importLines('imported', batch.length - taken.length);
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      // A duplicate within the batch (past dedupMax) or a concurrent writer: retry line by line.
      if (batch.length === 1) return run.reject({ line: batch[0].line, code: 'record.unique_violation' });
      for (const p of batch) await insertBatch(run, [p]);
    }
  }

  /** Cuts the lines into encode batches of at most batchSize lines and about batchBytes bytes. */
  async function* batches(lines: AsyncIterable<NdjsonLine>, reject: Reject): AsyncGenerator<RawLine[]> {
    let chunk: RawLine[] = [];
    let bytes = 0;
    for await (const l of lines) {
      if (!('text' in l)) { reject(l); continue; }
      chunk.push(l);
      bytes += l.text.length;
      if (chunk.length < limits.batchSize && bytes < limits.batchBytes) continue;
      yield chunk;
      chunk = []; bytes = 0;
    }
    if (chunk.length) yield chunk;
  }

  return {
    async run(actor: Actor, tenantId: string, name: string, lines: AsyncIterable<NdjsonLine>): Promise<ImportResult> {
      authorizeTenant(actor, tenantId, 'records.write');
      const [c, ring]: [CollectionRow, KeyRing] = await db.withTenant(tenantId, async (tx) => {
        const opened = await Promise.all([collections.find(tx, tenantId, name), keys.ringFor(tx, tenantId)]);
        await instructions.check(tx, actor, opened[0], 'import');
        return opened;
      }).catch(async (err) => {
        if (err instanceof InstructionRefusal) await instructions.recordRefusal(actor, tenantId, err);
        throw err;
      });
      const result: ImportResult = { imported: 0, rejected: [], rejectedCount: 0 };
      const reject: Reject = (r) => {
        result.rejectedCount++;
        meters.importLines('rejected', 1);
        if (result.rejected.length < limits.reportMax) result.rejected.push(r);
      };
      // Every line is encrypted under the ring read at the start; a rotation
      // running meanwhile re-encrypts these rows afterwards.
      const run: Run = { actor, tenantId, c, ring, keyVersion: ring.activeVersion, result, reject };
      const job = { fields: c.fields, tenantId, collectionId: c.id, keyVersion: ring.activeVersion,
        dataKey: ring.data.get(ring.activeVersion)!, indexKey: ring.index, limits: recordLimits };
      const seen = new Set<string>();
      // Chunks are encoded by the pool while earlier ones are written; results
      // are taken in line order, so in-file duplicates are judged in order.
      const encoding: Array<Promise<EncodedLine[]>> = [];
      let writing: Promise<void> = Promise.resolve();
      const settleOldest = async () => {
        const batch = acceptInOrder(await encoding.shift()!, seen, limits.dedupMax, reject);
        await writing;
        writing = batch.length ? insertBatch(run, batch) : Promise.resolve();
        writing.catch(() => {}); // surfaced by the next await of `writing`
      };
      for await (const chunk of batches(lines, reject)) {
        const p = pool.encode({ ...job, lines: chunk });
        p.catch(() => {}); // surfaced when settled in order
        encoding.push(p);
        if (encoding.length > poolSize) await settleOldest();
      }
      while (encoding.length) await settleOldest();
      await writing;
      result.rejected.sort((a, b) => a.line - b.line);
      return result;
    },

    close: () => pool.close(),
  };
}

export type ImportService = ReturnType<typeof importServiceFactory>;
