import autocannon from 'autocannon';
import { type Figures, summarise } from './measure.ts';
import { person } from './people.ts';
import type { Tenant } from './tresor-client.ts';

export type Op = 'create' | 'get' | 'search';

/** What get and search read: records created through the API, by id and e-mail. */
export interface Created { ids: string[]; emails: string[] }

export interface HttpLoad {
  /** The request after `req` for one connection; undefined keeps the spec's own. */
  next: () => autocannon.RawRequest;
  method: string;
  path: string;
  onBody?: (status: number, body: string) => void;
}

/**
 * Drives Tresor with autocannon for `seconds` at `connections` concurrent
 * keep-alive connections (one request in flight each, no pipelining).
 * Optional `stopWhen` lets a caller end an open-ended run.
 */
export function runAutocannon(t: Tenant, load: HttpLoad, connections: number, seconds: number,
  onResponse?: (status: number, ms: number) => void): { done: Promise<Figures>; stop: () => void } {
  const latencies: number[] = [];
  let errors = 0;
  const json = { 'content-type': 'application/json' };
  const instance = autocannon({
    url: t.url,
    connections,
    duration: seconds,
    timeout: 30,
    headers: { authorization: `Bearer ${t.key}` },
    requests: [{
      method: load.method,
      path: load.path,
      ...(load.method === 'POST' ? { headers: { authorization: `Bearer ${t.key}`, ...json } } : {}),
      setupRequest: (req) => ({ ...req, ...load.next() }),
      ...(load.onBody ? { onResponse: (status: number, body: string) => load.onBody!(status, body) } : {}),
    }],
  }, () => {});
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status >= 200 && status < 300) latencies.push(ms);
    else errors++;
    onResponse?.(status, ms);
  });
  const done = new Promise<Figures>((resolve, reject) => {
    instance.on('done', (result: autocannon.Result) => {
      errors += result.errors;
      resolve(summarise(latencies, errors, (result.finish.getTime() - result.start.getTime()) / 1000));
    });
    instance.on('error', reject);
  });
  return { done, stop: () => instance.stop() };
}

/** The three record operations of the bench, each varying its request per call. */
export function recordLoad(t: Tenant, op: Op, created: Created, tag: string, counter: { n: number }): HttpLoad {
  if (op === 'create') {
    return {
      method: 'POST', path: t.records,
      next: () => ({ body: JSON.stringify({ data: person(counter.n++, tag) }) }),
      onBody: (status, body) => {
        if (status !== 201) return;
        const r = JSON.parse(body) as { id: string; data: { email: string } };
        created.ids.push(r.id);
        created.emails.push(r.data.email);
      },
    };
  }
  if (!created.ids.length) throw new Error(`no records to ${op}: run create first`);
  const pickIndex = () => Math.floor(Math.random() * created.ids.length);
  if (op === 'get') return { method: 'GET', path: t.records, next: () => ({ path: `${t.records}/${created.ids[pickIndex()]}` }) };
  return {
    method: 'POST', path: `${t.records}/search`,
    next: () => ({ body: JSON.stringify({ where: { email: created.emails[pickIndex()] } }) }),
  };
}
