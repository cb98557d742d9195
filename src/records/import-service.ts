import type { Db } from '../db/db.ts';
import { isUniqueViolation } from '../db/db.ts';
import { type Actor, authorizeTenant } from '../access/permissions.ts';
import type { CollectionsService } from '../collections/collections-service.ts';
import type { CollectionRow } from '../collections/collections-repo.ts';
import type { KeysService, KeyRing } from '../keys/keys-service.ts';
import type { EncodedRecord } from './record-codec.ts';
import { createEncodePool } from './encode-pool.ts';
import type { EncodedLine, RawLine } from './import-line.ts';
import { recordsRepo } from './records-repo.ts';
import type { NdjsonLine } from './ndjson-lines.ts';

const MAX_REPORTED = 1000;

export interface ImportDeps { db: Db; collections: Pick<CollectionsService, 'find'>; keys: Pick<KeysService, 'ringFor'>; batchSize: number; poolSize: number }
interface Pending { line: number; id: string; rec: EncodedRecord }
export interface ImportResult { imported: number; rejected: Array<{ line: number; code: string }>; rejectedCount: number }

/** Encoded lines in line order: rejections reported, in-file duplicates of a unique value refused. */
function acceptInOrder(results: EncodedLine[], seen: Set<string>, reject: (line: number, code: string) => void): Pending[] {
  const batch: Pending[] = [];
  for (const r of results) {
    if ('code' in r) { reject(r.line, r.code); continue; }
    const uniqueKeys = r.rec.index.filter((e) => e.u).map((e) => `${e.field}:${e.hash}`);
    if (uniqueKeys.some((k) => seen.has(k))) { reject(r.line, 'record.unique_violation'); continue; }
    uniqueKeys.forEach((k) => seen.add(k));
    batch.push(r);
  }
  return batch;
}

// A client moving its data in: every line is validated, valid lines are
// written in batches (one transaction each), rejected lines are reported by
// number and code only, never by value.
export function importServiceFactory({ db, collections, keys, batchSize, poolSize }: ImportDeps) {
  const pool = createEncodePool(poolSize);
  interface Run { tenantId: string; c: CollectionRow; keyVersion: number; result: ImportResult; reject: (line: number, code: string) => void }

  async function insertBatch(run: Run, batch: Pending[]): Promise<void> {
    const { tenantId, c, keyVersion } = run;
    try {
      run.result.imported += await db.withTenant(tenantId, async (tx) => {
        const unique = batch.flatMap((p) => p.rec.index.filter((e) => e.u));
        const taken = new Set(unique.length ? (await recordsRepo.takenUnique(tx, c.id, unique)).map((t) => `${t.field}:${t.hash}`) : []);
        const fresh = batch.filter((p) => !p.rec.index.some((e) => e.u && taken.has(`${e.field}:${e.hash}`)));
        for (const p of batch) if (!fresh.includes(p)) run.reject(p.line, 'record.unique_violation');
        const rows = fresh.map((p) => ({ id: p.id, ...p.rec }));
        if (rows.length) await recordsRepo.insertMany(tx, { tenantId, collectionId: c.id, keyVersion, rows });
        return rows.length;
      });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      // A concurrent writer took a unique value between check and insert: retry line by line.
      if (batch.length === 1) return run.reject(batch[0].line, 'record.unique_violation');
      for (const p of batch) await insertBatch(run, [p]);
    }
  }

  return {
    async run(actor: Actor, tenantId: string, name: string, lines: AsyncIterable<NdjsonLine>): Promise<ImportResult> {
      authorizeTenant(actor, tenantId, 'records.write');
      const [c, ring]: [CollectionRow, KeyRing] = await db.withTenant(tenantId, (tx) =>
        Promise.all([collections.find(tx, tenantId, name), keys.ringFor(tx, tenantId)]));
      const result: ImportResult = { imported: 0, rejected: [], rejectedCount: 0 };
      const reject = (line: number, code: string) => {
        result.rejectedCount++;
        if (result.rejected.length < MAX_REPORTED) result.rejected.push({ line, code });
      };
      // Every line is encrypted under the ring read at the start; a rotation
      // running meanwhile re-encrypts these rows afterwards.
      const run: Run = { tenantId, c, keyVersion: ring.activeVersion, result, reject };
      const job = { fields: c.fields, tenantId, collectionId: c.id, keyVersion: ring.activeVersion,
        dataKey: ring.data.get(ring.activeVersion)!, indexKey: ring.index };
      const seen = new Set<string>();
      // Chunks are encoded by the pool while earlier ones are written; results
      // are taken in line order, so in-file duplicates are judged in order.
      const encoding: Array<Promise<EncodedLine[]>> = [];
      let writing: Promise<void> = Promise.resolve();
      const settleOldest = async () => {
        const batch = acceptInOrder(await encoding.shift()!, seen, reject);
        await writing;
        writing = batch.length ? insertBatch(run, batch) : Promise.resolve();
        writing.catch(() => {}); // surfaced by the next await of `writing`
      };
      const send = (chunk: RawLine[]) => {
        const p = pool.encode({ ...job, lines: chunk });
        p.catch(() => {}); // surfaced when settled in order
        encoding.push(p);
      };
      let chunk: RawLine[] = [];
      for await (const l of lines) {
        chunk.push(l);
        if (chunk.length < batchSize) continue;
        send(chunk);
        chunk = [];
        if (encoding.length > poolSize) await settleOldest();
      }
      if (chunk.length) send(chunk);
      while (encoding.length) await settleOldest();
      await writing;
      result.rejected.sort((a, b) => a.line - b.line);
      return result;
    },

    close: () => pool.close(),
  };
}

export type ImportService = ReturnType<typeof importServiceFactory>;
