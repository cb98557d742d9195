import { readFileSync } from 'node:fs';
import { createApiClient, resolveRemote } from './api-client.ts';
import { CliError, exitCodes } from './output.ts';
import type { RemoteOptions } from './remote-commands.ts';
import { openSyslog, syslogMessage, type SyslogSender } from '../audit/syslog.ts';

export interface ExportOptions extends RemoteOptions { since?: string; format: string; syslog?: string; syslogCa?: string; pageSize: string }

function sinceOf(since: string | undefined): string | undefined {
  if (since === undefined) return undefined;
  const t = new Date(since);
  if (Number.isNaN(t.getTime())) throw new CliError('cli.usage', `--since must be a date or an ISO 8601 time, got ${JSON.stringify(since)}`);
  return t.toISOString();
}

async function syslogOf(o: ExportOptions): Promise<SyslogSender | undefined> {
  if (!o.syslog) return undefined;
  let ca: Buffer | undefined;
  if (o.syslogCa) {
    try { ca = readFileSync(o.syslogCa); } catch (err) {
      throw new CliError('cli.file_unreadable', `cannot read ${o.syslogCa}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { file: o.syslogCa });
    }
  }
  try {
    return await openSyslog(o.syslog, { ca, connectTimeoutMs: 10_000 });
  } catch (err) {
    throw new CliError('cli.unreachable', `cannot reach the syslog destination ${o.syslog}: ${(err as Error).message}`, { url: o.syslog });
  }
}

/**
 * `tresor audit export`: every entry since a time, oldest first, one JSON line
 * each on stdout (or as RFC 5424 messages to a syslog destination), with its
 * seq and a proof anchor: the signed tree head read at the start, for entries
 * it covers (GET /v1/audit/proofs/inclusion?seq&treeSize proves them there).
 */
export async function exportAudit(o: ExportOptions): Promise<number> {
  if (o.format !== 'jsonl') throw new CliError('cli.usage', `--format must be jsonl, got ${JSON.stringify(o.format)}`);
  const limit = Number(o.pageSize);
  if (!Number.isInteger(limit) || limit < 1) throw new CliError('cli.usage', '--page-size must be a whole number ≥ 1');
  const api = createApiClient(resolveRemote(o));
  const from = sinceOf(o.since);
  const head = await api.auditTreeHead().catch(() => undefined);
  const syslog = await syslogOf(o);
  let count = 0;
  try {
    let cursor: string | undefined;
    do {
      const page = await api.auditExport({ from, cursor, limit });
      for (const item of page.items) {
        const covered = head && item.seq !== null && item.seq !== undefined && item.seq < head.treeSize;
        const anchor = covered ? { treeSize: head.treeSize, rootHash: head.rootHash, timestamp: head.timestamp, keyId: head.keyId } : null;
        const json = JSON.stringify({ ...item, anchor });
        if (syslog) await syslog.send(syslogMessage({ time: item.createdAt, msgId: item.entry?.action ?? 'redacted', json }));
        else process.stdout.write(`${json}\n`);
        count++;
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  } finally {
    await syslog?.close();
  }
  process.stderr.write(`exported ${count} audit entries${o.syslog ? ` to ${o.syslog}` : ''}\n`);
  return exitCodes.done;
}
