import { Worker } from 'node:worker_threads';
import type { EncodeJob } from './encode-worker.ts';
import type { EncodedLine } from './import-line.ts';

type Job = Omit<EncodeJob, 'id'>;
interface Waiting { resolve: (r: EncodedLine[]) => void; reject: (err: Error) => void; worker: Worker }

/** A small pool of encode workers, started on first use and unref'd so they never hold the process open. */
export function createEncodePool(size: number) {
  let workers: Worker[] = [];
  const waiting = new Map<number, Waiting>();
  let seq = 0;

  function spawn(): Worker {
    const worker = new Worker(new URL('./encode-worker-boot.mjs', import.meta.url));
    worker.unref();
    worker.on('message', (m: { id: number; results?: EncodedLine[]; error?: string }) => {
      const w = waiting.get(m.id);
      waiting.delete(m.id);
      if (m.results) w?.resolve(m.results);
      else w?.reject(new Error(`encoding an import chunk failed (${m.error})`));
    });
    // A crashed worker fails only the jobs it held; the next encode() spawns a replacement.
    const fail = (err: Error) => {
      workers = workers.filter((w) => w !== worker);
      for (const [id, w] of waiting) if (w.worker === worker) { w.reject(err); waiting.delete(id); }
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`encode worker exited with code ${code}`)));
    return worker;
  }

  return {
    encode(job: Job): Promise<EncodedLine[]> {
      while (workers.length < size) workers.push(spawn());
      const id = ++seq;
      const worker = workers[id % workers.length];
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject, worker });
        worker.postMessage({ ...job, id });
      });
    },
    async close() {
      const all = workers;
      workers = [];
      await Promise.all(all.map((w) => w.terminate()));
    },
  };
}

export type EncodePool = ReturnType<typeof createEncodePool>;
