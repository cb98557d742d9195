import { type Person, person } from '../bench/people.ts';
import type { Tenant } from '../bench/tresor-client.ts';

// Clients that write without pause, as users would while the database fails
// over: every 201 is an acknowledged write that must survive; a 503 must be a
// retryable service.unavailable problem; anything else fails the test.

export interface Writes {
  acked: Map<string, Person>;
  unavailable: () => number;
  /** Time (ms since epoch) of the first 201 to a request sent at or after t. */
  firstSuccessSince: (t: number) => number | undefined;
  /** Every acknowledged write: when it was sent and when its 201 arrived (ms since epoch). */
  acks: () => ReadonlyArray<{ sent: number; at: number }>;
  /** Wrong answers: neither 201 nor a retryable 503 problem. */
  wrong: string[];
  stop: () => Promise<void>;
}

export function writeContinuously(t: Tenant, tag: string, writers = 4): Writes {
  const acked = new Map<string, Person>();
  const successes: Array<{ sent: number; at: number }> = [];
  const wrong: string[] = [];
  let unavailable = 0;
  let n = 0;
  let stopping = false;
  const writer = async () => {
    while (!stopping) {
      const data = person(n++, tag);
      const sent = Date.now();
      const res = await fetch(`${t.url}${t.records}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ data }),
        signal: AbortSignal.timeout(90_000),
      }).catch((err: Error) => err);
      if (res instanceof Error) { wrong.push(`request failed: ${res.message}`); continue; }
      const body = await res.text();
      if (res.status === 201) {
        acked.set((JSON.parse(body) as { id: string }).id, data);
        successes.push({ sent, at: Date.now() });
      } else if (res.status === 503 && res.headers.get('retry-after') && JSON.parse(body).code === 'service.unavailable') {
        unavailable++;
        await new Promise((r) => setTimeout(r, 100)); // a client backs off a little before retrying
      } else {
        wrong.push(`${res.status} ${body.slice(0, 200)}`);
      }
    }
  };
  const all = Promise.all(Array.from({ length: writers }, writer));
  return {
    acked,
    unavailable: () => unavailable,
    acks: () => successes,
    firstSuccessSince: (since) => successes.filter((s) => s.sent >= since).reduce<number | undefined>((m, s) => (m === undefined || s.at < m ? s.at : m), undefined),
    wrong,
    stop: async () => { stopping = true; await all; },
  };
}

/** Reads every acknowledged record back through Tresor; returns the ids missing or different. */
export async function missingWrites(t: Tenant, acked: Map<string, Person>): Promise<string[]> {
  const bad: string[] = [];
  const entries = [...acked];
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < entries.length) {
      const [id, sent] = entries[next++];
      // A 503 says "retry": right after a failover a read may still meet a
      // connection being replaced. Only a definite answer counts.
      let res: Response;
      let body: string;
      for (let attempt = 0; ; attempt++) {
        res = await fetch(`${t.url}${t.records}/${id}`, { headers: { authorization: `Bearer ${t.key}` } });
        body = await res.text();
        if (res.status !== 503 || attempt === 20) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      if (res.status !== 200) { bad.push(`${id}: ${res.status}`); continue; }
      if (JSON.stringify((JSON.parse(body) as { data: Person }).data) !== JSON.stringify(sent)) bad.push(`${id}: differs`);
    }
  }));
  return bad;
}
