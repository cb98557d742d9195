import { randomBytes, randomUUID } from 'node:crypto';
import { containsPan } from '../src/records/card-guard.ts';
import { parseCollectionDefinition } from '../src/collections/collection-definition.ts';
import { validateRecordData } from '../src/collections/field-types.ts';
import { encodeRecord } from '../src/records/record-codec.ts';
import { person, runTag } from './people.ts';
import { peopleCollection } from './tresor-client.ts';
import { nonCardCorpus } from '../test/records/non-card-corpus.ts';
import { httpOps, type BenchSettings } from './backend-pass.ts';
import { type Figures, fmt } from './measure.ts';
import { seedTenant } from './tresor-client.ts';
import { createDatabase, startTresor, tresorDirs } from './tresor-process.ts';

// The payment-card guard's cost on create: the same checkout with
// TRESOR_PAYMENT_CARD_GUARD=off and =on (TRESOR_ENVIRONMENT=test, as off is
// refused in production), on one store, in one run, in the order off, on,
// off, on, so drift of a shared machine hits both sides alike. Each side's
// figure is the mean of its two rounds. Plus the guard's false-positive rate
// on the 120 000 realistic non-card values of the test corpus.

const log = (msg: string) => process.stderr.write(`${msg}\n`);

export interface CardGuardResults { backend: 'postgres' | 'pglite'; off: Record<string, Figures>; on: Record<string, Figures>; falsePositives: number; corpus: number; codec: CodecCost }

/**
 * The guard's CPU on create's own work (validate, normalise, seal, blind-index a
 * person record), in-process, guard on and off interleaved in 10 rounds of
 * `perRound` records: far less noisy than HTTP throughput on a shared machine.
 */
export interface CodecCost { onUs: number; offUs: number }
export function codecCost(perRound = 20_000): CodecCost {
  const parsed = parseCollectionDefinition({ name: peopleCollection.name, fields: peopleCollection.fields.map((f) => ({ ...f })) },
    { maxFields: 100, maxLengthCap: 65535, defaultMaxLength: 1000 });
  if (!parsed.ok) throw new Error('people collection does not parse');
  const ring = { activeVersion: 1, data: new Map([[1, randomBytes(32)]]), index: randomBytes(32) };
  const at = { tenantId: randomUUID(), collectionId: randomUUID(), recordId: randomUUID() };
  const tag = runTag();
  const people = Array.from({ length: perRound }, (_, i) => JSON.parse(JSON.stringify(person(i, tag))));
  const round = (cardGuard: boolean) => {
    const t0 = performance.now();
    for (const p of people) {
      const valid = validateRecordData(parsed.fields, p, 'create', { jsonMaxBytes: 65536, recordMaxBytes: 65536, cardGuard });
      if (!valid.ok) throw new Error('bench record invalid');
      encodeRecord(ring, parsed.fields, at, valid.values);
    }
    return performance.now() - t0;
  };
  round(true); round(false);
  let on = 0, off = 0;
  for (let i = 0; i < 10; i++) { off += round(false); on += round(true); }
  return { onUs: (on * 1000) / (10 * perRound), offUs: (off * 1000) / (10 * perRound) };
}

const mean = (a: Figures, b: Figures): Figures => ({ ...a, rps: (a.rps + b.rps) / 2, p50: (a.p50 + b.p50) / 2, p99: (a.p99 + b.p99) / 2, errors: a.errors + b.errors });

export async function cardGuardAb(backend: 'postgres' | 'pglite', s: BenchSettings): Promise<CardGuardResults> {
  const dirs = tresorDirs();
  const database = backend === 'postgres' ? await createDatabase(s.baseUrl) : undefined;
  const env = { ...dirs.env, TRESOR_ENVIRONMENT: 'test', ...(database ? { DATABASE_URL: database.url, TRESOR_WORKERS: String(s.workers) } : {}) };
  const ops = { ...s, ops: ['create'] as BenchSettings['ops'] };
  const rounds: Array<{ guard: 'on' | 'off'; figures: Record<string, Figures> }> = [];
  try {
    let tenant;
    let port: number | undefined;
    for (const guard of ['off', 'on', 'off', 'on'] as const) {
      log(`\n# card guard ${guard}, ${backend}`);
      const server = await startTresor({ env: { ...env, TRESOR_PAYMENT_CARD_GUARD: guard }, port, expectToken: !tenant, nodeArgs: s.serverNodeArgs, readyTimeoutMs: 300_000 });
      port = Number(new URL(server.url).port);
      try {
        tenant ??= await seedTenant(server.url, server.token!);
        rounds.push({ guard, figures: await httpOps(tenant, ops, server.child.pid!) });
      } finally {
        await server.stop();
      }
    }
  } finally {
    await database?.drop();
    dirs.remove();
  }
  const side = (guard: 'on' | 'off') => {
    const [a, b] = rounds.filter((r) => r.guard === guard).map((r) => r.figures);
    return Object.fromEntries(Object.keys(a).map((k) => [k, mean(a[k], b[k])]));
  };
  const corpus = nonCardCorpus(15_000);
  const falsePositives = corpus.filter((c) => containsPan(c.value)).length;
  return { backend, off: side('off'), on: side('on'), falsePositives, corpus: corpus.length, codec: codecCost() };
}

export function renderCardGuard(results: CardGuardResults[], concurrencies: number[]): string {
  const lines = ['| Backend | Measure | Guard on | Guard off | Cost | Target | Status |', '|---|---|---:|---:|---:|---|---|'];
  for (const r of results) {
    for (const c of concurrencies) {
      const on = r.on[`create@${c}`];
      const off = r.off[`create@${c}`];
      if (!on || !off) continue;
      const cost = 1 - on.rps / off.rps;
      const errors = on.errors || off.errors ? ` (errors: on ${on.errors}, off ${off.errors})` : '';
      lines.push(`| ${r.backend} | create c=${c}: req/s${errors} | ${fmt(on.rps)} | ${fmt(off.rps)} | ${fmt(cost * 100, 1)} % | < 3 % | ${cost < 0.03 ? 'met' : '**not met**'} |`);
      lines.push(`| ${r.backend} | create c=${c}: p50 / p99 ms | ${fmt(on.p50, 2)} / ${fmt(on.p99, 2)} | ${fmt(off.p50, 2)} / ${fmt(off.p99, 2)} | | | |`);
    }
  }
  const fp = results[0];
  const rate = fp ? `${fp.falsePositives} of ${fmt(fp.corpus)} realistic non-card values refused (${fmt((fp.falsePositives / fp.corpus) * 100, 3)} %)` : '';
  const codec = results.map((r) => `${fmt(r.codec.onUs, 2)} µs on vs ${fmt(r.codec.offUs, 2)} µs off (${fmt((r.codec.onUs / r.codec.offUs - 1) * 100, 1)} %)`).join('; ');
  return ['', '### Payment-card guard on vs off (same checkout, same store, rounds off/on/off/on)', '', ...lines, '',
    `Create's CPU work per record (validate, seal, index; in-process, interleaved): ${codec}.`, '', `False positives: ${rate}.`, ''].join('\n');
}
