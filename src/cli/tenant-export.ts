import { closeSync, createWriteStream, openSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { createApiClient, resolveRemote } from './api-client.ts';
import { openSealedExport } from '../crypto/export-seal.ts';
import { CliError, exitCodes, printResult } from './output.ts';
import { startProgress } from './progress.ts';
import type { RemoteOptions } from './remote-commands.ts';

export interface TenantExportOptions extends RemoteOptions { tenant: string; out?: string; to?: string; recipientKey?: string }

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
  if (o.to || o.recipientKey) return exportTenantTo(o);
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

const readOrFail = (file: string, what: string) => {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new CliError('cli.failed', `cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { file });
  }
};

/** `tresor tenant export --to URL --recipient-key FILE`: the server seals the export to the key and sends it through egress; prints the summary. */
async function exportTenantTo(o: TenantExportOptions): Promise<number> {
  if (!o.to || !o.recipientKey || o.out) throw new CliError('cli.usage', '--to and --recipient-key go together, without --out');
  const recipientKey = readOrFail(o.recipientKey, 'the recipient key').toString('utf8');
  const sent = await createApiClient(resolveRemote(o)).exportTenantTo(o.tenant, { destination: o.to, recipientKey });
  printResult(!!o.json, sent, `sent ${sent.records} records of ${sent.collections} collections, sealed (${sent.bytes} bytes), to ${sent.destination} (HTTP ${sent.status})`);
  return exitCodes.done;
}

/** `tresor tenant decrypt-export --key PRIVATE.pem --in FILE`: opens a sealed export (whole file in memory) and writes the NDJSON to stdout. */
export async function decryptExport(o: { key: string; in: string }): Promise<number> {
  const key = readOrFail(o.key, 'the private key').toString('utf8');
  let plain: Buffer;
  try {
    plain = openSealedExport(key, readOrFail(o.in, 'the sealed export'));
  } catch (err) {
    throw new CliError('cli.failed', `cannot open ${o.in}: ${(err as Error).message === 'Unsupported state or unable to authenticate data' ? 'wrong key, or the file was altered or cut off' : (err as Error).message}`);
  }
  if (!process.stdout.write(plain)) await once(process.stdout, 'drain');
  return exitCodes.done;
}
