import { v7 as uuidv7 } from 'uuid';
import type { Db } from '../db/db.ts';
import { isUniqueViolation } from '../db/db.ts';
import { type Actor, authorizeTenant } from '../access/permissions.ts';
import type { CollectionsService } from '../collections/collections-service.ts';
import type { CollectionRow } from '../collections/collections-repo.ts';
import { isPlainObject, validateRecordData } from '../collections/field-types.ts';
import type { KeysService, KeyRing } from '../keys/keys-service.ts';
import { type EncodedRecord, encodeRecord } from './record-codec.ts';
import { recordsRepo } from './records-repo.ts';
import type { NdjsonLine } from './ndjson-lines.ts';

const MAX_REPORTED = 1000;

export interface ImportDeps { db: Db; collections: Pick<CollectionsService, 'find'>; keys: Pick<KeysService, 'ringFor'>; batchSize: number }
interface Pending { line: number; id: string; rec: EncodedRecord }
export interface ImportResult { imported: number; rejected: Array<{ line: number; code: string }>; rejectedCount: number }

function parseLine(text: string): { data: unknown } | { code: string } {
  let parsed: unknown;
  try { parsed = JSON.parse(text); } catch { return { code: 'import.invalid_json' }; }
  if (!isPlainObject(parsed) || !('data' in parsed) || Object.keys(parsed).length !== 1) return { code: 'import.invalid_line' };
  return { data: parsed.data };
}

// A client moving its data in: every line is validated, valid lines are
// written in batches (one transaction each), rejected lines are reported by
// number and code only, never by value.
export function importServiceFactory({ db, collections, keys, batchSize }: ImportDeps) {
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
      const seen = new Set<string>();
      let batch: Pending[] = [];
      // One batch is written while the next is parsed and encrypted.
      let writing: Promise<void> = Promise.resolve();
      const flush = async (full: Pending[]) => {
        await writing;
        writing = insertBatch(run, full);
        writing.catch(() => {}); // surfaced by the next await of `writing`
      };
      for await (const l of lines) {
        if ('tooLong' in l) { reject(l.line, 'import.line_too_long'); continue; }
        if (!l.text.trim()) continue;
        const parsed = parseLine(l.text);
        if ('code' in parsed) { reject(l.line, parsed.code); continue; }
        const valid = validateRecordData(c.fields, parsed.data, 'create');
        if (!valid.ok) { reject(l.line, valid.problems[0].code); continue; }
        const id = uuidv7();
        const rec = encodeRecord(ring, c.fields, { tenantId, collectionId: c.id, recordId: id }, valid.values);
        const keysOfLine = rec.index.filter((e) => e.u).map((e) => `${e.field}:${e.hash}`);
        if (keysOfLine.some((k) => seen.has(k))) { reject(l.line, 'record.unique_violation'); continue; }
        keysOfLine.forEach((k) => seen.add(k));
        batch.push({ line: l.line, id, rec });
        if (batch.length >= batchSize) { await flush(batch); batch = []; }
      }
      if (batch.length) await flush(batch);
      await writing;
      result.rejected.sort((a, b) => a.line - b.line);
      return result;
    },
  };
}

export type ImportService = ReturnType<typeof importServiceFactory>;
