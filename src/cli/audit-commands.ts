import { readFileSync } from 'node:fs';
import type { Config } from '../config.ts';
import { createApiClient, resolveRemote } from './api-client.ts';
import { CliError, exitCodes, printResult } from './output.ts';
import type { RemoteOptions } from './remote-commands.ts';
import type { SavedHead, VerifyReport } from '../audit/merkle/verify.ts';

/** `tresor audit head`: the signed head as the API serves it, ready to save to a file. */
export async function printTreeHead(o: RemoteOptions): Promise<number> {
  const head = await createApiClient(resolveRemote(o)).auditTreeHead();
  process.stdout.write(`${JSON.stringify(head, null, 2)}\n`);
  return exitCodes.done;
}

/** A head file as `tresor audit head` prints it, read and checked for --head. */
export function readSavedHead(file: string): SavedHead {
  let h: { treeSize?: unknown; rootHash?: unknown; timestamp?: unknown; signature?: unknown; keyId?: unknown };
  try {
    h = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CliError('cli.file_unreadable', `cannot read the saved head ${file}: ${(err as Error).message}`, { file });
  }
  if (!Number.isSafeInteger(h.treeSize) || !Number.isSafeInteger(h.timestamp) || typeof h.rootHash !== 'string' || typeof h.signature !== 'string') {
    throw new CliError('cli.file_unreadable', `${file} is not a tree head as printed by \`tresor audit head\``, { file });
  }
  return { treeSize: h.treeSize as number, timestampMs: h.timestamp as number, rootHash: Buffer.from(h.rootHash, 'base64'),
    signature: Buffer.from(h.signature, 'base64'), keyId: String(h.keyId ?? '') };
}

function reportText(r: VerifyReport): string {
  const rate = Math.round(r.entries / Math.max(r.ms / 1000, 0.001));
  const stats = `${r.entries} entries, ${r.heads} signed heads in ${(r.ms / 1000).toFixed(2)} s (${(r.cpuMs / 1000).toFixed(2)} s CPU; ${rate} entries/s)`;
  return r.firstBad ? `audit log NOT verified: first bad seq ${r.firstBad.seq}: ${r.firstBad.reason}\n${stats}` : `audit log verified: ${stats}`;
}

/**
 * `tresor audit verify`: opens the store directly (on the embedded store it is
 * refused while a server holds the lock) and recomputes everything offline,
 * trusting only the key derived from the root key.
 */
export async function verifyAuditLog(config: Config, o: { head?: string; json?: boolean }, openStore: (c: Config) => Promise<{ db: any; keyProvider: any }>): Promise<number> {
  const saved = o.head ? readSavedHead(o.head) : undefined;
  const [{ verifyLog }, { signingKeyFor }, { AUDIT_SIGNING_PURPOSE }, { auditVerifyFailed }, { clockFor }] = await Promise.all([
    import('../audit/merkle/verify.ts'), import('../crypto/signing.ts'), import('../audit/merkle/tree-head.ts'),
    import('../incidents/incident-rules.ts'), import('../clock.ts')]);
  const { db, keyProvider } = await openStore(config);
  try {
    const key = signingKeyFor(keyProvider, AUDIT_SIGNING_PURPOSE);
    const report = await verifyLog(db, key.publicKey, { saved });
    const rate = Math.round(report.entries / Math.max(report.ms / 1000, 0.001));
    // A failed verification is an integrity incident (or a new event of the one already open).
    const incident = report.firstBad
      ? await auditVerifyFailed(db, report.firstBad, report.treeSize, clockFor(config.clockOffset)(), config.incidentDedupHours) : null;
    const text = `${reportText(report)}${incident ? `\nincident ${incident.incidentId} ${incident.opened ? 'opened' : 'updated'}` : ''}`;
    if (report.firstBad && !o.json) process.stderr.write(`${text}\n`);
    else printResult(!!o.json, { ok: report.firstBad === null, ...report, entriesPerSecond: rate, keyId: key.keyId, incidentId: incident?.incidentId ?? null }, text);
    return report.firstBad ? exitCodes.failed : exitCodes.done;
  } finally { await db.close(); }
}
