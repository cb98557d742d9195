import { closeSync, createWriteStream, openSync, renameSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { createApiClient, resolveRemote } from './api-client.ts';
import { CliError, exitCodes, printResult } from './output.ts';
import { startProgress } from './progress.ts';
import type { RemoteOptions } from './remote-commands.ts';

export interface TenantExportOptions extends RemoteOptions { tenant: string; out?: string }

/** A new file only readable by its owner (it holds every record in clear); never over an existing one. */
function openOut(file: string): { stream: Writable; partial: string } {
  const partial = `${file}.partial`;
  try {
    closeSync(openSync(file, 'wx', 0o600));
    rmSync(file);
  } catch (err) {
    throw new CliError('cli.failed', `cannot create ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} (an export never overwrites a file)`, { file });
  }
  return { stream: createWriteStream(partial, { flags: 'wx', mode: 0o600 }), partial };
}

async function write(out: Writable, chunk: string) {
  if (!out.write(chunk)) await once(out, 'drain');
}

/**
 * `tresor tenant export`: streams POST /v1/tenants/{id}/export to --out (or
 * stdout), line by line as it arrives, with a progress bar on stderr. The file
 * appears under its name only when the stream's `end` line has arrived; a
 * stream cut off leaves FILE.partial and exits 1.
 */
export async function exportTenant(o: TenantExportOptions): Promise<number> {
  const api = createApiClient(resolveRemote(o));
  const body = await api.exportTenant(o.tenant);
  const target = o.out ? openOut(o.out) : { stream: process.stdout as Writable, partial: undefined };
  let progress: ReturnType<typeof startProgress> | undefined;
  let records = 0;
  let end: { collections: number; records: number } | undefined;
  let rest = '';
  const decoder = new TextDecoder();
  const onLine = (line: string) => {
    if (!line) return;
    const parsed = JSON.parse(line) as { type: string; records?: number; collections?: number };
    if (parsed.type === 'export') progress = startProgress({ label: `export ${o.tenant}`, unit: 'records', total: parsed.records ?? 0, everyMs: o.progressEvery * 1000 });
    else if (parsed.type === 'record') records++;
    else if (parsed.type === 'end') end = { collections: parsed.collections ?? 0, records: parsed.records ?? 0 };
  };
  try {
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
      const text = rest + decoder.decode(chunk, { stream: true });
      const lines = text.split('\n');
      rest = lines.pop() ?? '';
      lines.forEach(onLine);
      progress?.update(records);
      await write(target.stream, lines.map((l) => `${l}\n`).join(''));
    }
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw new CliError('cli.unreachable', `the export stream broke off: ${(err as Error).message}`);
    throw new CliError('cli.failed', 'the export stream holds a line that is not JSON');
  } finally {
    progress?.stop();
    if (o.out) { target.stream.end(); await once(target.stream, 'close'); }
  }
  if (!end) {
    throw new CliError('cli.failed', `the export was cut off after ${records} records (no end line)${target.partial ? `; ${target.partial} holds what arrived` : ''}`);
  }
  if (o.out && target.partial) renameSync(target.partial, o.out);
  const summary = { tenantId: o.tenant, collections: end.collections, records: end.records, file: o.out ?? null };
  if (o.out) printResult(!!o.json, summary, `exported ${end.records} records of ${end.collections} collections to ${o.out}`);
  else process.stderr.write(`exported ${end.records} records of ${end.collections} collections\n`);
  return exitCodes.done;
}
