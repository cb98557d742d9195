import { parentPort } from 'node:worker_threads';
import type { FieldDef } from '../collections/collection-definition.ts';
import type { RecordLimits } from '../collections/field-types.ts';
import { type RawLine, encodeLine } from './import-line.ts';

export interface EncodeJob {
  id: number;
  fields: FieldDef[];
  tenantId: string;
  collectionId: string;
  keyVersion: number;
  dataKey: Uint8Array;
  indexKey: Uint8Array;
  limits: RecordLimits;
  lines: RawLine[];
}

// Import encoding (parse, validate, encrypt, blind-index) off the main thread,
// so an import uses more than one core. Keys arrive with each job and live
// only in this process's memory, as on the main thread.
parentPort!.on('message', (job: EncodeJob) => {
  // A job that throws fails its own request only: the error goes back to the
  // pool instead of killing the worker and every other job queued on it.
  try {
    const ring = { activeVersion: job.keyVersion, data: new Map([[job.keyVersion, Buffer.from(job.dataKey)]]), index: Buffer.from(job.indexKey) };
    const ctx = { fields: job.fields, ring, tenantId: job.tenantId, collectionId: job.collectionId, limits: job.limits };
    const results = job.lines.map((l) => encodeLine(ctx, l));
    parentPort!.postMessage({ id: job.id, results });
  } catch (err) {
    // The error's name only: a message or stack could carry personal data into logs.
    parentPort!.postMessage({ id: job.id, error: (err as Error)?.name ?? 'Error' });
  }
});
