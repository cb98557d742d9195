import assert from 'node:assert/strict';
import { type Person, person } from '../bench/people.ts';
import type { Tenant } from '../bench/tresor-client.ts';

// Write loops for the kill -9 soak tests: concurrent creates through the real
// HTTP API, every 201 recorded with the data that was sent, and a read-back of
// all of them after a restart.

const WRITERS = 8;

export interface WriteLoop { acked: Map<string, Person>; attempted: () => number; failure: () => unknown; stop: () => Promise<void> }

/** WRITERS concurrent create loops; every 201 is recorded with the data that was sent. */
export function writeLoop(t: Tenant, tag: string): WriteLoop {
  const acked = new Map<string, Person>();
  let n = 0;
  let stopping = false;
  const writer = async () => {
    while (!stopping) {
      const data = person(n++, tag);
      let res: Response;
      try {
        res = await fetch(`${t.url}${t.records}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${t.key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ data }),
        });
      } catch (err) {
        if (stopping) return; // the server is gone: this request was never acknowledged
        throw err;
      }
      const body = await res.text().catch((err) => { if (stopping) return undefined; throw err; });
      if (body === undefined) return;
      if (res.status !== 201) throw new Error(`create answered ${res.status}: ${body.slice(0, 300)}`);
      const created = JSON.parse(body) as { id: string; data: Person };
      assert.deepEqual(created.data, data, 'a create answers with the data it stored');
      acked.set(created.id, data);
    }
  };
  const writers = Array.from({ length: WRITERS }, writer);
  let failed: unknown;
  const all = Promise.all(writers);
  all.catch((err) => { failed = err; }); // surfaced by stop()
  return {
    acked,
    attempted: () => n,
    failure: () => failed,
    stop: async () => { stopping = true; await all; },
  };
}

/** Reads every acknowledged record back (16 at a time); returns the ids that are missing or differ. */
export async function verifyAll(t: Tenant, acked: Map<string, Person>) {
  const entries = [...acked];
  const missing: string[] = [];
  const different: string[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < entries.length) {
      const [id, sent] = entries[next++];
      const res = await fetch(`${t.url}${t.records}/${id}`, { headers: { authorization: `Bearer ${t.key}` } });
      const text = await res.text();
      if (res.status === 404) { missing.push(id); continue; }
      assert.equal(res.status, 200, `GET ${id}: ${text.slice(0, 300)}`);
      try { assert.deepEqual(JSON.parse(text).data, sent); } catch { different.push(id); }
    }
  }));
  return { missing, different };
}

