import type { Db } from '../db/db.ts';
import { type PendingEntry, type RequestEntry, pendingEntry } from './audit-leaf.ts';

export interface RequestLogDeps {
  db: Pick<Db, 'appendAudit'>;
  flushMs: number;
  /** Entries held at most; beyond it new ones are dropped (and counted), so a slow database cannot grow memory without bound. */
  bufferMax: number;
  /** Entries per INSERT. */
  batchMax: number;
  meters: { requestLogged(outcome: 'written' | 'dropped' | 'failed', n: number): void };
  onError: (err: unknown) => void;
  now?: () => Date;
}

/**
 * The request log: one audit entry (kind `request`) per API request, kept off
 * the request's own path. Entries wait in a bounded buffer and are written in
 * multi-row INSERTs every flushMs (or as soon as a batch is full), and on
 * close. What a crash can lose: the entries of at most the last flushMs (and
 * any a failed write could not place), never more than bufferMax.
 */
export function createRequestLog({ db, flushMs, bufferMax, batchMax, meters, onError, now = () => new Date() }: RequestLogDeps) {
  let buffer: PendingEntry[] = [];
  let writing: Promise<void> = Promise.resolve();
  let closed = false;

  async function write(batch: PendingEntry[]) {
    try {
      await db.appendAudit(batch);
      meters.requestLogged('written', batch.length);
    } catch (err) {
      meters.requestLogged('failed', batch.length);
      onError(err);
    }
  }

  /** Writes what is buffered now, one batch after another; resolves when written (or failed). */
  function flush(): Promise<void> {
    while (buffer.length) {
      const batch = buffer.slice(0, batchMax);
      buffer = buffer.slice(batchMax);
      writing = writing.then(() => write(batch));
    }
    return writing;
  }

  const timer = setInterval(() => { void flush(); }, flushMs);
  timer.unref();

  return {
    record(entry: RequestEntry, tenantId: string | null): void {
      if (closed || buffer.length >= bufferMax) return meters.requestLogged('dropped', 1);
      buffer.push(pendingEntry({ kind: 'request', ...entry }, tenantId, now()));
      if (buffer.length >= batchMax) void flush();
    },
    flush,
    async close(): Promise<void> {
      closed = true;
      clearInterval(timer);
      await flush();
    },
  };
}

export type RequestLog = ReturnType<typeof createRequestLog>;
