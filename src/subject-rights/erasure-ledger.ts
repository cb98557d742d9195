import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Db, TenantTx } from '../db/db.ts';
import { canonicalJson } from '../audit/audit-leaf.ts';
import type { SigningKey } from '../crypto/signing.ts';
import { subjectsRepo } from './subjects-repo.ts';
import type { Term } from './subject-terms.ts';

// The erasure ledger: one signed entry per erasure, holding the subject's
// blind-index hashes per collection and field and the ids of the records
// erased, never a value. It is kept twice:
//  - in the store (table erasure_ledger), committed with the erasure;
//  - in TRESOR_BACKUP_DIR/erasure-ledger.ndjson, appended (and fsynced) before
//    that commit, one line per entry: {"entry": <canonical JSON>, "signature": <base64>}.
// A restored store is as old as its backup, so is its table; the file is not
// (it lives beside the backups, outside any snapshot). Every entry of the
// file that a store's table lacks is re-applied to it: matching records are
// deleted and the entry is added to its table. This runs after `tresor backup
// restore`, on every restore verification, and when a server starts, before
// it answers any request. Entries are signed (Ed25519, purpose
// 'erasure.ledger'), so a line slipped into the file cannot delete anything.

export const LEDGER_SIGNING_PURPOSE = 'erasure.ledger';

export interface LedgerEntry {
  v: 1;
  id: string;
  tenantId: string;
  erasedAt: string;
  groups: Array<{ collectionId: string; terms: Term[] }>;
  recordIds: string[];
}

export interface SignedEntry { entry: Buffer; signature: Buffer }

export const ledgerFile = (backupDir: string) => join(backupDir, 'erasure-ledger.ndjson');

export function signEntry(key: SigningKey, entry: LedgerEntry): SignedEntry {
  const bytes = Buffer.from(canonicalJson(entry), 'utf8');
  return { entry: bytes, signature: key.sign(bytes) };
}

/** Appends one entry and flushes it to disk before returning. */
export function appendToLedgerFile(backupDir: string, e: SignedEntry): void {
  mkdirSync(backupDir, { recursive: true, mode: 0o700 });
  const fd = openSync(ledgerFile(backupDir), 'a', 0o600);
  try {
    writeSync(fd, `${JSON.stringify({ entry: e.entry.toString('utf8'), signature: e.signature.toString('base64') })}\n`);
    fsyncSync(fd);
  } finally { closeSync(fd); }
}

export class LedgerError extends Error {}

/** Every entry of the file, each signature checked; a line that does not verify stops everything (nothing is skipped silently). */
export function readLedgerFile(backupDir: string, key: SigningKey): Array<SignedEntry & { parsed: LedgerEntry }> {
  let text: string;
  try { text = readFileSync(ledgerFile(backupDir), 'utf8'); } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const lines = text.split('\n');
  // A crash mid-append leaves at most an unterminated last line, never acknowledged: it is ignored.
  lines.pop();
  return lines.map((line, n) => {
    let e: SignedEntry;
    try {
      const raw = JSON.parse(line) as { entry: string; signature: string };
      e = { entry: Buffer.from(raw.entry, 'utf8'), signature: Buffer.from(raw.signature, 'base64') };
    } catch { throw new LedgerError(`${ledgerFile(backupDir)} line ${n + 1} is not a ledger entry`); }
    if (!key.verify(e.entry, e.signature)) throw new LedgerError(`${ledgerFile(backupDir)} line ${n + 1}: signature does not verify under key ${key.keyId}`);
    return { ...e, parsed: JSON.parse(e.entry.toString('utf8')) as LedgerEntry };
  });
}

/** Deletes the entry's records from a store: by id, and every record still matching the subject's hashes. */
export async function applyEntry(tx: TenantTx, e: LedgerEntry): Promise<number> {
  let deleted = await subjectsRepo.deleteRecords(tx, e.recordIds);
  for (const g of e.groups) deleted += await subjectsRepo.deleteRecords(tx, await subjectsRepo.matchingIds(tx, g.collectionId, g.terms));
  return deleted;
}

export interface ReapplyReport { entries: number; reapplied: LedgerEntry[]; deleted: number }

/**
 * Brings a store's erasures up to the ledger file: each entry its table lacks
 * (its tenant present) is applied and added, in one transaction per tenant.
 */
export async function reapplyLedger(db: Db, opts: { backupDir: string; key: SigningKey; now?: () => Date }): Promise<ReapplyReport> {
  const entries = readLedgerFile(opts.backupDir, opts.key);
  const report: ReapplyReport = { entries: entries.length, reapplied: [], deleted: 0 };
  if (!entries.length) return report;
  const tenants = new Set((await db.query<{ id: string }>('select id::text as id from tenants')).map((r) => r.id));
  const byTenant = new Map<string, typeof entries>();
  for (const e of entries) {
    if (!tenants.has(e.parsed.tenantId)) continue;
    byTenant.set(e.parsed.tenantId, [...(byTenant.get(e.parsed.tenantId) ?? []), e]);
  }
  const now = opts.now ?? (() => new Date());
  for (const [tenantId, list] of byTenant) {
    await db.withTenant(tenantId, async (tx) => {
      const known = await subjectsRepo.ledgerIds(tx);
      for (const e of list) {
        if (known.has(e.parsed.id)) continue;
        report.deleted += await applyEntry(tx, e.parsed);
        await subjectsRepo.insertLedger(tx, { id: e.parsed.id, erasedAt: new Date(e.parsed.erasedAt), entry: e.entry, signature: e.signature, reappliedAt: now() });
        known.add(e.parsed.id);
        report.reapplied.push(e.parsed);
      }
    });
  }
  return report;
}

/** What is left of the ledger's subjects in a store: erased ids still present, and records matching an entry re-applied just now. */
export async function findableAfterReapply(db: Db, report: ReapplyReport, key: SigningKey): Promise<{ entries: number; findable: number }> {
  const tenants = (await db.query<{ id: string }>('select id::text as id from tenants')).map((r) => r.id);
  let entries = 0;
  let findable = 0;
  for (const tenantId of tenants) {
    await db.withTenant(tenantId, async (tx) => {
      for (const row of await subjectsRepo.ledger(tx)) {
        if (!key.verify(row.entry, row.signature)) throw new LedgerError(`erasure ledger entry of tenant ${tenantId} does not verify`);
        const e = JSON.parse(row.entry.toString('utf8')) as LedgerEntry;
        entries++;
        const [{ n }] = await tx.query<{ n: number }>('select count(*)::int as n from records where id in (select jsonb_array_elements_text($1::text::jsonb)::uuid)',
          [JSON.stringify(e.recordIds)]);
        findable += n;
      }
    });
  }
  for (const e of report.reapplied) {
    await db.withTenant(e.tenantId, async (tx) => {
      for (const g of e.groups) findable += (await subjectsRepo.matchingIds(tx, g.collectionId, g.terms)).length;
    });
  }
  return { entries, findable };
}
