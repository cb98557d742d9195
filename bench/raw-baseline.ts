import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import postgres from 'postgres';
import { PGlite } from '@electric-sql/pglite';
import { type Figures, closedLoop } from './measure.ts';
import { type Person, person } from './people.ts';
import type { Op } from './http-load.ts';

// The floor Tresor is measured against: the same people, in plaintext, in one
// simple table, through the same driver, with no HTTP, no encryption, no blind
// index and no row-level security. Tresor/raw is the price of all of that.

const TABLE = `create table if not exists raw_people (id uuid primary key, email text not null unique, data jsonb not null)`;
const IMPORT_TABLE = `create table if not exists raw_import (id uuid primary key, email text not null unique, data jsonb not null)`;

/** One connection's worth of the three operations, plus COPY for the bulk baseline. */
interface RawStore {
  insert(p: Person): Promise<string>;
  byId(id: string): Promise<unknown>;
  byEmail(email: string): Promise<unknown>;
  copy(csv: Readable): Promise<void>;
  close(): Promise<void>;
}

async function postgresStore(url: string, pool: number): Promise<RawStore> {
  const sql = postgres(url, { max: pool, onnotice: () => {} });
  await sql.unsafe(TABLE);
  await sql.unsafe(IMPORT_TABLE);
  return {
    insert: async (p) => {
      const id = randomUUID();
      await sql`insert into raw_people (id, email, data) values (${id}, ${p.email}, ${sql.json(p as never)})`;
      return id;
    },
    byId: async (id) => (await sql`select id, email, data from raw_people where id = ${id}`)[0],
    byEmail: async (email) => (await sql`select id, email, data from raw_people where email = ${email}`)[0],
    copy: async (csv) => pipeline(csv, await sql`copy raw_import (id, email, data) from stdin (format csv)`.writable()),
    close: () => sql.end({ timeout: 5 }),
  };
}

async function pgliteStore(dataDir: string): Promise<RawStore> {
  const pg = await PGlite.create({ dataDir });
  await pg.exec(`${TABLE}; ${IMPORT_TABLE}`);
  return {
    insert: async (p) => {
      const id = randomUUID();
      await pg.query('insert into raw_people (id, email, data) values ($1, $2, $3)', [id, p.email, JSON.stringify(p)]);
      return id;
    },
    byId: async (id) => (await pg.query('select id, email, data from raw_people where id = $1', [id])).rows[0],
    byEmail: async (email) => (await pg.query('select id, email, data from raw_people where email = $1', [email])).rows[0],
    copy: async (csv) => {
      const chunks: Buffer[] = [];
      for await (const c of csv) chunks.push(Buffer.from(c));
      await pg.query("copy raw_import (id, email, data) from '/dev/blob' (format csv)", [], { blob: new Blob([Buffer.concat(chunks)]) });
    },
    close: () => pg.close(),
  };
}

/** The same people as CSV rows for COPY (the JSON quoted the CSV way), in 1000-row chunks. */
export function peopleCsv(count: number, tag: string): Buffer[] {
  const chunks: Buffer[] = [];
  for (let i = 0; i < count; i += 1000) {
    let out = '';
    for (let j = i; j < Math.min(count, i + 1000); j++) {
      const p = person(j, tag);
      out += `${randomUUID()},${p.email},"${JSON.stringify(p).replace(/"/g, '""')}"\n`;
    }
    chunks.push(Buffer.from(out));
  }
  return chunks;
}

export type RawTarget = { kind: 'postgres'; url: string } | { kind: 'pglite'; dataDir: string };

/** Runs the raw side of create/get/search at each concurrency, like the HTTP side: create first, reads over what it made. */
export async function rawRecordOps(target: RawTarget, wanted: Op[], concurrencies: number[], seconds: number, warmupSeconds: number, tag: string) {
  const results: Record<string, Figures> = {};
  const ids: string[] = [];
  const emails: string[] = [];
  let n = 0;
  const pick = () => Math.floor(Math.random() * ids.length);
  const ops: Record<Op, (s: RawStore) => Promise<unknown>> = {
    create: async (s) => {
      const p = person(n++, tag);
      ids.push(await s.insert(p));
      emails.push(p.email);
    },
    get: (s) => s.byId(ids[pick()]),
    search: (s) => s.byEmail(emails[pick()]),
  };
  const pglite = target.kind === 'pglite' ? await pgliteStore(target.dataDir) : undefined;
  try {
    for (const op of wanted) {
      for (const [i, c] of concurrencies.entries()) {
        // N loops over a pool of N connections (PGlite: one in-process engine, calls queue).
        const store = pglite ?? (await postgresStore((target as { url: string }).url, c));
        try {
          if (i === 0 && warmupSeconds > 0) await closedLoop(Math.max(...concurrencies), warmupSeconds, () => ops[op](store));
          results[`${op}@${c}`] = await closedLoop(c, seconds, () => ops[op](store));
        } finally {
          if (!pglite) await store.close();
        }
        process.stderr.write(`  raw ${op} c=${c}: ${Math.round(results[`${op}@${c}`].rps)} ops/s\n`);
      }
    }
  } finally {
    await pglite?.close();
  }
  return results;
}

/** COPY of `count` plaintext rows: the fastest way in, as the bulk baseline. Returns rows per second. */
export async function rawCopy(target: RawTarget, count: number, tag: string): Promise<number> {
  const store = target.kind === 'pglite' ? await pgliteStore(target.dataDir) : await postgresStore(target.url, 1);
  try {
    const csv = peopleCsv(count, tag);
    const t0 = performance.now();
    await store.copy(Readable.from(csv));
    return count / ((performance.now() - t0) / 1000);
  } finally {
    await store.close();
  }
}
